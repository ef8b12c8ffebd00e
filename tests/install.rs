//! `make install` lays out a usable installation: the versioned libraries
//! (plain libbgworker, and libbgworker_pg with the PostgreSQL runtime)
//! with their soname links, the static libraries, the header, the
//! pkg-config files and bgworkerd, all stripped of debug information; a
//! host program builds against either with pkg-config alone, and
//! examples/host_example.c, built against the staged tree as README.md
//! says, drives the staged bgworkerd.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The section names `readelf -S` lists for `file` (every member of an
/// archive).
fn sections(file: &Path) -> Vec<String> {
    let out = Command::new("readelf")
        .arg("-SW")
        .arg(file)
        .output()
        .expect("run readelf");
    assert!(
        out.status.success(),
        "readelf -S {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix('[')?
                .split_once(']')
                .map(|(_, rest)| rest.split_whitespace().next().unwrap_or("").to_string())
        })
        .collect()
}

/// `installed` carries no debug information (and, unless it is an archive,
/// no static symbol table either), and is smaller than the build's `built`.
fn assert_stripped(installed: &Path, built: &Path, archive: bool) {
    let s = sections(installed);
    assert!(
        !s.is_empty(),
        "readelf found no sections in {}",
        installed.display()
    );
    // DWARF sections; .debug_gdb_scripts is not debug information but a
    // loaded section naming gdb's pretty-printers, which strip keeps.
    let debug: Vec<&String> = s
        .iter()
        .filter(|n| {
            (n.starts_with(".debug_") && *n != ".debug_gdb_scripts") || n.starts_with(".zdebug")
        })
        .collect();
    assert!(
        debug.is_empty(),
        "{} keeps debug sections {debug:?}",
        installed.display()
    );
    if !archive {
        assert!(
            !s.iter().any(|n| n == ".symtab"),
            "{} keeps .symtab",
            installed.display()
        );
    }
    let (a, b) = (
        std::fs::metadata(installed).unwrap().len(),
        std::fs::metadata(built).unwrap().len(),
    );
    assert!(
        a < b,
        "{} ({a} bytes) is not smaller than {} ({b} bytes)",
        installed.display(),
        built.display()
    );
}

#[test]
fn make_install_into_destdir() {
    let stage = root().join("target/tmp/install-stage");
    let _ = std::fs::remove_dir_all(&stage);
    let out = Command::new("make")
        .current_dir(root())
        .args(["-s", "install", "PREFIX=/usr/local"])
        .arg(format!("DESTDIR={}", stage.display()))
        .output()
        .expect("run make install");
    assert!(
        out.status.success(),
        "make install failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let p = stage.join("usr/local");
    let lib = p.join("lib");
    assert!(lib.join("libbgworker.so.0.1.0").is_file());
    assert_eq!(
        std::fs::read_link(lib.join("libbgworker.so.0")).unwrap(),
        Path::new("libbgworker.so.0.1.0")
    );
    assert_eq!(
        std::fs::read_link(lib.join("libbgworker.so")).unwrap(),
        Path::new("libbgworker.so.0")
    );
    assert!(lib.join("libbgworker.a").is_file());
    assert!(lib.join("libbgworker_pg.so.0.1.0").is_file());
    assert_eq!(
        std::fs::read_link(lib.join("libbgworker_pg.so")).unwrap(),
        Path::new("libbgworker_pg.so.0")
    );
    assert!(lib.join("libbgworker_pg.a").is_file());
    let dynamic = Command::new("readelf")
        .args(["-d"])
        .arg(lib.join("libbgworker_pg.so.0.1.0"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&dynamic.stdout).contains("Library soname: [libbgworker_pg.so.0]")
    );
    assert!(p.join("bin/bgworkerd").is_file());
    // bgworkerctl is installed and runs from the staged tree.
    let ctl = Command::new(p.join("bin/bgworkerctl"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        ctl.status.success() && String::from_utf8_lossy(&ctl.stdout).starts_with("bgworkerctl "),
        "{ctl:?}"
    );
    assert_eq!(
        std::fs::read(p.join("include/bgworker.h")).unwrap(),
        std::fs::read(root().join("include/bgworker.h")).unwrap()
    );
    assert_eq!(
        std::fs::read(p.join("include/bgworker_supervision.h")).unwrap(),
        std::fs::read(root().join("include/bgworker_supervision.h")).unwrap()
    );
    assert_eq!(
        std::fs::read(p.join("include/bgworker_mq.h")).unwrap(),
        std::fs::read(root().join("include/bgworker_mq.h")).unwrap()
    );
    // Stripped: the build's debug information stays in target/release.
    let rel = root().join("target/release");
    assert_stripped(
        &lib.join("libbgworker.so.0.1.0"),
        &rel.join("libbgworker.so"),
        false,
    );
    assert_stripped(&lib.join("libbgworker.a"), &rel.join("libbgworker.a"), true);
    assert_stripped(&p.join("bin/bgworkerd"), &rel.join("bgworkerd"), false);
    assert_stripped(&p.join("bin/bgworkerctl"), &rel.join("bgworkerctl"), false);

    // The soname recorded in the library is the versioned link's name.
    let dynamic = Command::new("readelf")
        .args(["-d"])
        .arg(lib.join("libbgworker.so.0.1.0"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&dynamic.stdout).contains("Library soname: [libbgworker.so.0]"));

    // pkg-config, pointed at the staged tree, gives flags that build a host.
    let pc = std::fs::read_to_string(lib.join("pkgconfig/bgworker.pc")).unwrap();
    assert!(
        pc.contains("prefix=/usr/local") && pc.contains("-lbgworker"),
        "{pc}"
    );
    let staged_pc = stage.join("bgworker.pc");
    std::fs::write(
        &staged_pc,
        pc.replace("prefix=/usr/local", &format!("prefix={}", p.display())),
    )
    .unwrap();
    // pkg-config must accept the installed file and give the flags; no
    // fallback, so a broken .pc file fails here.
    let out = Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", &stage)
        .args(["--cflags", "--libs", "bgworker"])
        .output()
        .expect("run pkg-config (apt-get install -y pkg-config)");
    assert!(
        out.status.success(),
        "pkg-config --cflags --libs bgworker failed:\n{}\n{pc}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flags = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        flags.contains(&format!("-I{}/include", p.display()))
            && flags.contains(&format!("-L{}/lib", p.display()))
            && flags.contains("-lbgworker"),
        "pkg-config flags do not point at the staged tree: {flags}\n{pc}"
    );
    let src = stage.join("host.c");
    std::fs::write(
        &src,
        "#include <bgworker.h>\n#include <stdio.h>\n\
         int main(void) { printf(\"%d\\n\", bgw_attach(\"/nonexistent/rundir\")); puts(bgw_last_error()); return 0; }\n",
    )
    .unwrap();
    let exe = stage.join("host");
    let mut cc = Command::new("cc");
    cc.arg("-o")
        .arg(&exe)
        .arg(&src)
        .args(flags.split_whitespace())
        .arg(format!("-Wl,-rpath,{}", lib.display()));
    let o = cc.output().unwrap();
    assert!(
        o.status.success(),
        "cc {flags}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.starts_with("-1\n") && text.contains("no bgworkerd is running"),
        "{text}"
    );

    // The runtime library's pkg-config file builds a host that finds
    // PostgreSQL's names (palloc) through it.
    let pc = std::fs::read_to_string(lib.join("pkgconfig/bgworker-pg.pc")).unwrap();
    std::fs::write(
        stage.join("bgworker-pg.pc"),
        pc.replace("prefix=/usr/local", &format!("prefix={}", p.display())),
    )
    .unwrap();
    let out = Command::new("pkg-config")
        .env("PKG_CONFIG_PATH", &stage)
        .args(["--cflags", "--libs", "bgworker-pg"])
        .output()
        .expect("run pkg-config");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flags = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(flags.contains("-lbgworker_pg"), "{flags}");
    let src = stage.join("pghost.c");
    std::fs::write(
        &src,
        "#include <bgworker.h>\n#include <stdio.h>\n\
         extern void *palloc(unsigned long);\n\
         int main(void) { printf(\"%d %d\\n\", bgw_attach(\"/nonexistent/rundir\"), palloc != 0); return 0; }\n",
    )
    .unwrap();
    let exe = stage.join("pghost");
    let o = Command::new("cc")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .args(flags.split_whitespace())
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "cc {flags}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "-1 1\n");
    staged_example_host(&stage, &p);
    let _ = std::fs::remove_dir_all(&stage);
}

/// README.md's recipe for a staged install: pkg-config with the stage as
/// sysroot builds examples/host_example.c, LD_LIBRARY_PATH lets it run,
/// and it starts and stops a worker of the staged (stripped) bgworkerd,
/// which loads a module built as PostgreSQL extensions are.
fn staged_example_host(stage: &Path, p: &Path) {
    let _w = watchdog(DEFAULT_WATCHDOG, "staged_example_host");
    let flags = Command::new("pkg-config")
        .env("PKG_CONFIG_SYSROOT_DIR", stage)
        .env("PKG_CONFIG_PATH", p.join("lib/pkgconfig"))
        .args(["--cflags", "--libs", "bgworker"])
        .output()
        .expect("run pkg-config");
    assert!(
        flags.status.success(),
        "{}",
        String::from_utf8_lossy(&flags.stderr)
    );
    let flags = String::from_utf8_lossy(&flags.stdout).trim().to_string();
    assert!(
        flags.contains(&format!("-I{}/include", p.display()))
            && flags.contains(&format!("-L{}/lib", p.display())),
        "PKG_CONFIG_SYSROOT_DIR did not point the flags at the stage: {flags}"
    );
    let exe = stage.join("host_example");
    let o = Command::new("cc")
        .arg("-o")
        .arg(&exe)
        .arg(root().join("examples/host_example.c"))
        .args(flags.split_whitespace())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "cc host_example.c {flags}: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    let module = pgxs_module(root().join("examples/lifecycle_demo.c").to_str().unwrap());
    let rundir = stage.join("run");
    std::fs::create_dir_all(&rundir).unwrap();
    let _segment = SegmentOf(rundir.clone());
    let daemon = Proc::spawn(
        &p.join("bin/bgworkerd"),
        &[
            "-D".to_string(),
            rundir.display().to_string(),
            "-c".into(),
            format!(
                "dynamic_library_path={}",
                module.parent().unwrap().display()
            ),
            "-c".into(),
            "shared_preload_libraries=lifecycle_demo".into(),
        ],
        &[],
        "staged-bgworkerd",
    );
    daemon.wait_line("bgworkerd ready", secs(20));
    let seg = std::fs::read_to_string(rundir.join("bgworkerd.pid"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();

    // Without LD_LIBRARY_PATH the loader does not find the staged library.
    let bare = Command::new(&exe)
        .arg(&rundir)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert!(
        !bare.status.success()
            && String::from_utf8_lossy(&bare.stderr).contains("libbgworker.so.0"),
        "{bare:?}"
    );
    let libdir = p.join("lib").display().to_string();
    let rd = rundir.display().to_string();
    let (st, out) = run_host(
        &exe,
        &[rd.as_str()],
        &[("LD_LIBRARY_PATH", libdir.as_str())],
        secs(30),
    );
    assert_eq!(
        st.code(),
        Some(0),
        "{}:\n{out}\nbgworkerd:\n{}",
        describe_status(&st),
        daemon.text()
    );
    assert!(
        out.contains("worker started, pid ") && out.contains("worker stopped"),
        "{out}"
    );
    daemon.wait_line(
        "FATAL:  terminating background worker \"host example\" due to administrator command",
        secs(5),
    );

    daemon.signal(SIGINT);
    let st = daemon.wait_exit(secs(20));
    assert_eq!(
        st.code(),
        Some(0),
        "staged bgworkerd: {}\n{}",
        describe_status(&st),
        daemon.text()
    );
    assert!(
        !Path::new("/dev/shm")
            .join(seg.trim_start_matches('/'))
            .exists(),
        "segment {seg} left behind"
    );
}

/// Removes the shared segment named in a run directory's pid file when
/// dropped (after a failed test has SIGKILLed the daemon).
struct SegmentOf(PathBuf);

impl Drop for SegmentOf {
    fn drop(&mut self) {
        if let Ok(text) = std::fs::read_to_string(self.0.join("bgworkerd.pid")) {
            if let Some(seg) = text.lines().nth(1) {
                let _ = std::fs::remove_file(
                    Path::new("/dev/shm").join(seg.trim().trim_start_matches('/')),
                );
            }
        }
    }
}
