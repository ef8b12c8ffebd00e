//! `make install` lays out a usable installation: a versioned library with
//! its soname links, the static library, the header, the pkg-config file
//! and bgworkerd; a host program builds against it with pkg-config alone.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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
    let _ = std::fs::remove_dir_all(&stage);
}
