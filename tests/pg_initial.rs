//! exports/pg15/initial.values: the values the variables of PostgreSQL
//! 15's postgres binary hold before a module reads them, where they are
//! not zero. It is a fact about the real binary, like the symbol list: the
//! boot value of the setting behind a variable (PostgreSQL assigns every
//! setting its boot value at start), else the variable's own initializer.
//! The build gives the runtime's storage of those variables these values.
//!
//! This test derives the list from the real binary when it is installed
//! and checks the checked-in file is current; `BGW_WRITE_INITIAL=1` (make
//! pg-symbols) rewrites it. How: the settings tables (guc_tables.h's
//! `struct config_bool` ... `config_enum`, laid out as a probe compiled
//! against the real headers reports) hold, per setting, a pointer to its
//! name and one to its variable, both as relocations of the binary; a
//! relocation pointing at an exported variable, with a setting name at the
//! struct's start, ties the two together, and the struct's `boot_val`
//! holds the boot value. The type of each setting comes from
//! `postgres --describe-config` or, for settings it hides, from the table
//! stride (the neighbouring entry is a setting of the same type).

mod common;

#[path = "../exports/table.rs"]
mod table;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Command;

const POSTGRES: &str = "/usr/lib/postgresql/15/bin/postgres";
const PG_CONFIG: &str = "/usr/lib/postgresql/15/bin/pg_config";

struct Elf {
    data: Vec<u8>,
    /// (addr, size, file offset, NOBITS)
    sections: Vec<(u64, u64, u64, bool)>,
    /// slot address -> target address (RELATIVE, or symbol + addend)
    relocs: HashMap<u64, u64>,
    /// exported OBJECT symbols: name -> (addr, size)
    objects: BTreeMap<String, (u64, u64)>,
}

fn u16le(b: &[u8], o: usize) -> u64 {
    u16::from_le_bytes(b[o..o + 2].try_into().unwrap()) as u64
}
fn u32le(b: &[u8], o: usize) -> u64 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as u64
}
fn u64le(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

impl Elf {
    fn read(path: &Path) -> Elf {
        let data = std::fs::read(path).expect("read postgres");
        assert_eq!(&data[..5], b"\x7fELF\x02", "a 64-bit ELF file");
        let shoff = u64le(&data, 0x28) as usize;
        let shentsize = u16le(&data, 0x3a) as usize;
        let shnum = u16le(&data, 0x3c) as usize;
        let sh = |i: usize, o: usize, w: usize| {
            let at = shoff + i * shentsize + o;
            if w == 4 {
                u32le(&data, at)
            } else {
                u64le(&data, at)
            }
        };
        let mut sections = Vec::new();
        let mut dynsym = None;
        let mut relas = Vec::new();
        for i in 0..shnum {
            let ty = sh(i, 4, 4);
            let (addr, off, size, link) = (
                sh(i, 0x10, 8),
                sh(i, 0x18, 8),
                sh(i, 0x20, 8),
                sh(i, 0x28, 4),
            );
            if addr != 0 {
                sections.push((addr, size, off, ty == 8));
            }
            match ty {
                11 => dynsym = Some((off, size, link)),
                4 => relas.push((off, size)),
                _ => {}
            }
        }
        let (symoff, symsize, strndx) = dynsym.expect(".dynsym");
        let stroff = sh(strndx as usize, 0x18, 8) as usize;
        let mut syms = Vec::new();
        let mut objects = BTreeMap::new();
        for k in 0..(symsize / 24) as usize {
            let at = symoff as usize + k * 24;
            let name_off = u32le(&data, at) as usize;
            let info = data[at + 4];
            let shndx = u16le(&data, at + 6);
            let value = u64le(&data, at + 8);
            let size = u64le(&data, at + 16);
            let end = data[stroff + name_off..]
                .iter()
                .position(|&c| c == 0)
                .unwrap();
            let name = String::from_utf8_lossy(&data[stroff + name_off..stroff + name_off + end])
                .into_owned();
            syms.push(value);
            if info & 0xf == 1 && shndx != 0 && !name.contains('@') {
                objects.insert(name, (value, size));
            }
        }
        let mut relocs = HashMap::new();
        for (off, size) in relas {
            for k in 0..(size / 24) as usize {
                let at = off as usize + k * 24;
                let (slot, info, addend) = (
                    u64le(&data, at),
                    u64le(&data, at + 8),
                    u64le(&data, at + 16),
                );
                let (ty, sym) = (info & 0xffff_ffff, (info >> 32) as usize);
                match ty {
                    8 => {
                        relocs.insert(slot, addend);
                    }
                    1 if sym != 0 && syms[sym] != 0 => {
                        relocs.insert(slot, syms[sym].wrapping_add(addend));
                    }
                    _ => {}
                }
            }
        }
        Elf {
            data,
            sections,
            relocs,
            objects,
        }
    }

    /// The bytes at `addr` (zeros in NOBITS), or None outside the image.
    fn bytes(&self, addr: u64, n: u64) -> Option<Vec<u8>> {
        let &(a, _, off, nobits) = self
            .sections
            .iter()
            .find(|&&(a, size, _, _)| addr >= a && addr + n <= a + size)?;
        if nobits {
            return Some(vec![0; n as usize]);
        }
        let o = (off + addr - a) as usize;
        Some(self.data[o..o + n as usize].to_vec())
    }

    fn cstring(&self, addr: u64) -> Option<String> {
        let &(a, size, off, nobits) = self
            .sections
            .iter()
            .find(|&&(a, size, _, _)| addr >= a && addr < a + size)?;
        if nobits {
            return None;
        }
        let o = (off + addr - a) as usize;
        let end = (off + size) as usize;
        let n = self.data[o..end].iter().position(|&c| c == 0)?;
        String::from_utf8(self.data[o..o + n].to_vec()).ok()
    }

    fn is_nobits(&self, addr: u64) -> bool {
        self.sections
            .iter()
            .any(|&(a, size, _, nobits)| nobits && addr >= a && addr < a + size)
    }
}

/// guc_tables.h's layouts as PostgreSQL 15's headers give them: per type
/// (bool, int, real, string, enum): (sizeof, offsetof variable,
/// offsetof boot_val).
fn layouts() -> BTreeMap<String, (u64, u64, u64)> {
    let server = String::from_utf8(
        Command::new(PG_CONFIG)
            .arg("--includedir-server")
            .output()
            .expect("pg_config")
            .stdout,
    )
    .unwrap();
    let probe = r#"
#include "postgres.h"
#include "utils/guc_tables.h"
#undef printf
#include <stdio.h>
#define L(t) printf(#t " %zu %zu %zu\n", sizeof(struct config_##t), offsetof(struct config_##t, variable), offsetof(struct config_##t, boot_val))
int main(void) { L(bool); L(int); L(real); L(string); L(enum);
  printf("enum_options %zu 0 0\n", offsetof(struct config_enum, options)); return 0; }
"#;
    let dir = common::fresh_dir("pg_initial");
    let src = dir.join("probe.c");
    std::fs::write(&src, probe).unwrap();
    let exe = dir.join("probe");
    let out = Command::new("cc")
        .arg(format!("-I{}", server.trim()))
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("cc");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&exe).output().expect("run probe");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (
                f[0].to_string(),
                (
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                    f[3].parse().unwrap(),
                ),
            )
        })
        .collect()
}

/// Setting name -> type word (bool, int, real, string, enum) of the
/// settings `postgres --describe-config` shows.
fn described_types() -> HashMap<String, String> {
    let out = Command::new(POSTGRES)
        .arg("--describe-config")
        .output()
        .expect("postgres --describe-config");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let t = match *f.get(3)? {
                "BOOLEAN" => "bool",
                "INTEGER" => "int",
                "REAL" => "real",
                "STRING" => "string",
                "ENUM" => "enum",
                _ => return None,
            };
            Some((f[0].to_string(), t.to_string()))
        })
        .collect()
}

fn setting_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
}

/// The texts of initial.values and enum.values, generated from the real
/// binary.
fn generate() -> (String, String) {
    let elf = Elf::read(Path::new(POSTGRES));
    let mut lay = layouts();
    // config_enum's `options` (an address: a relocation), where config_int,
    // of the same size, has plain integers.
    let enum_options = lay.remove("enum_options").expect("probe").0;
    let off_var = lay["bool"].1;
    assert!(
        lay.values().all(|l| l.1 == off_var),
        "variable pointers at one offset: {lay:?}"
    );
    let described = described_types();
    let by_addr: HashMap<u64, &str> = elf
        .objects
        .iter()
        .map(|(n, &(a, _))| (a, n.as_str()))
        .collect();
    let name_at = |s: u64| {
        elf.relocs
            .get(&s)
            .and_then(|&p| elf.cstring(p))
            .filter(|n| setting_name(n))
    };

    // variable -> (setting, type, value text)
    let mut settings: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    // enum setting -> its config_enum_entry table: (name, C value, hidden)
    let mut enums: BTreeMap<String, Vec<(String, i32, bool)>> = BTreeMap::new();
    for (&slot, &target) in &elf.relocs {
        let Some(&var) = by_addr.get(&target) else {
            continue;
        };
        let Some(start) = slot.checked_sub(off_var) else {
            continue;
        };
        let Some(guc) = name_at(start) else { continue };
        // The C variable's size (bool 1, int and enum 4, real and string 8)
        // and the stride of the table it sits in.
        let var_size = elf.objects[var].1;
        // Entries of one table in a row at that type's stride: the longest
        // run names the table (types of the variable's width only).
        let run = |size: u64| {
            let mut n = 0;
            let mut a = start + size;
            while name_at(a).is_some() {
                n += 1;
                a += size;
            }
            let mut a = start;
            while let Some(b) = a.checked_sub(size).filter(|&b| name_at(b).is_some()) {
                n += 1;
                a = b;
            }
            n
        };
        let mut runs: Vec<(usize, &String)> = lay
            .iter()
            .filter(|(t, _)| {
                let width = match t.as_str() {
                    "bool" => 1,
                    "int" | "enum" => 4,
                    _ => 8,
                };
                let options = elf.relocs.contains_key(&(start + enum_options));
                width == var_size
                    && match t.as_str() {
                        "enum" => options,
                        "int" => !options,
                        _ => true,
                    }
            })
            .map(|(t, &(size, _, _))| (run(size), t))
            .filter(|&(n, _)| n > 0)
            .collect();
        runs.sort();
        let by_stride: Vec<&String> = match runs.as_slice() {
            [.., (a, _), (b, t)] if b > a => vec![*t],
            [(_, t)] => vec![*t],
            _ => runs.iter().map(|&(_, t)| t).collect(),
        };
        let ty = match described.get(&guc) {
            Some(t) => {
                assert!(
                    by_stride.contains(&t),
                    "setting {guc}: described as {t}, laid out as {by_stride:?}"
                );
                t.clone()
            }
            None if by_stride.len() == 1 => by_stride[0].clone(),
            None => panic!("setting {guc}: type not described and stride ambiguous: {by_stride:?}"),
        };
        if ty == "enum" {
            // `options` points at {const char *name; int val; bool hidden}
            // entries (16 bytes) ending with a NULL name.
            let mut e = *elf
                .relocs
                .get(&(start + enum_options))
                .expect("an enum setting's options");
            let mut table = Vec::new();
            while let Some(&n) = elf.relocs.get(&e) {
                let name = elf.cstring(n).expect("an enum value's name");
                let b = elf.bytes(e + 8, 5).expect("an enum entry");
                table.push((name, u32le(&b, 0) as i32, b[4] != 0));
                e += 16;
            }
            assert!(!table.is_empty(), "setting {guc}: no enum values");
            enums.insert(guc.clone(), table);
        }
        let boot = start + lay[&ty].2;
        let value = match ty.as_str() {
            "bool" => elf.bytes(boot, 1).unwrap()[0].to_string(),
            "int" | "enum" => (u32le(&elf.bytes(boot, 4).unwrap(), 0) as i32).to_string(),
            "real" => format!(
                "{:?}",
                f64::from_bits(u64le(&elf.bytes(boot, 8).unwrap(), 0))
            ),
            "string" => match elf.relocs.get(&boot) {
                None => "NULL".to_string(),
                Some(&p) => {
                    let s = elf.cstring(p).expect("string boot value");
                    assert!(
                        s.chars().all(|c| c.is_ascii_graphic() || c == ' '),
                        "setting {guc}: boot value {s:?} is not printable ASCII"
                    );
                    format!("\"{s}\"")
                }
            },
            _ => unreachable!(),
        };
        let prev = settings.insert(var.to_string(), (guc.clone(), ty, value));
        assert!(prev.is_none(), "{var} is behind two settings");
    }
    assert!(
        settings.len() > 100,
        "found only {} settings",
        settings.len()
    );

    let mut body = String::new();
    let (mut n_set, mut n_data, mut n_addr) = (0, 0, 0);
    for (name, &(addr, size)) in &elf.objects {
        if let Some((guc, ty, value)) = settings.get(name) {
            n_set += 1;
            body.push_str(&format!("{name} setting:{guc} {ty} {value}\n"));
            continue;
        }
        if elf.is_nobits(addr) || size == 0 {
            continue;
        }
        let bytes = elf.bytes(addr, size).expect("variable bytes");
        if (addr..addr + size).any(|a| elf.relocs.contains_key(&a)) {
            n_addr += 1;
            body.push_str(&format!("{name} address -\n"));
        } else if bytes.iter().any(|&b| b != 0) {
            n_data += 1;
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            body.push_str(&format!("{name} data {hex}\n"));
        }
    }
    let pkg = Command::new("dpkg-query")
        .args(["-W", "postgresql-15"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().replace('\t', " "))
        .unwrap_or_default();
    let mut enum_text = format!(
        "# The C values of the enum settings behind PostgreSQL 15's exported\n\
         # variables: each setting's config_enum_entry table, read from the real\n\
         # binary. Generated by tests/pg_initial.rs (make pg-symbols); do not edit.\n\
         # source: {POSTGRES} ({pkg})\n\
         # format: SETTING, then NAME=VALUE[/hidden] per entry in the table's\n\
         # order, separated by tabs\n\
         # counts: {} settings\n",
        enums.len()
    );
    for (guc, table) in &enums {
        enum_text.push_str(guc);
        for (n, v, hidden) in table {
            assert!(
                !n.contains(['\t', '=', '/']),
                "setting {guc}: enum value {n:?} has a separator in it"
            );
            enum_text.push_str(&format!(
                "\t{n}={v}{}",
                if *hidden { "/hidden" } else { "" }
            ));
        }
        enum_text.push('\n');
    }
    let values = format!(
        "# Initial values of the variables PostgreSQL 15's postgres binary exports,\n\
         # where they are not zero. Generated by tests/pg_initial.rs from the real\n\
         # binary (make pg-symbols); do not edit.\n\
         # source: {POSTGRES} ({pkg})\n\
         # format: NAME SOURCE [TYPE] VALUE\n\
         #   setting:GUC TYPE VALUE  the boot value of that setting, which PostgreSQL\n\
         #                           assigns at start; TYPE bool (0/1), int, real,\n\
         #                           enum (the C value), string (\"TEXT\" or NULL)\n\
         #   data HEX                the variable's initializer, byte by byte\n\
         #   address -               its initializer holds addresses inside postgres,\n\
         #                           which mean nothing elsewhere: zero in libbgworker\n\
         # counts: {n_set} settings, {n_data} data, {n_addr} address\n{body}"
    );
    (values, enum_text)
}

#[test]
fn initial_values_are_current() {
    let _w = common::watchdog(120, "pg_initial");
    let path = common::repo_root().join("exports/pg15/initial.values");
    if !Path::new(POSTGRES).exists() || !Path::new(PG_CONFIG).exists() {
        eprintln!("skipped: {POSTGRES} or {PG_CONFIG} is not installed (postgresql-15, postgresql-server-dev-15); cannot check that exports/pg15/initial.values is current");
        return;
    }
    let enum_path = common::repo_root().join("exports/pg15/enum.values");
    let (text, enum_text) = generate();
    if std::env::var_os("BGW_WRITE_INITIAL").is_some() {
        std::fs::write(&path, &text).expect("write initial.values");
        std::fs::write(&enum_path, &enum_text).expect("write enum.values");
        return;
    }
    let have =
        std::fs::read_to_string(&path).expect("exports/pg15/initial.values (run make pg-symbols)");
    assert!(
        have == text,
        "exports/pg15/initial.values is not current: run `make pg-symbols`"
    );
    let have = std::fs::read_to_string(&enum_path)
        .expect("exports/pg15/enum.values (run make pg-symbols)");
    assert!(
        have == enum_text,
        "exports/pg15/enum.values is not current: run `make pg-symbols`"
    );
}

/// The checked-in file parses (the build reads it with the same reader),
/// and the settings every census module reads have PostgreSQL's values.
#[test]
fn initial_values_parse_and_hold_known_boot_values() {
    let text = std::fs::read_to_string(common::repo_root().join("exports/pg15/initial.values"))
        .expect("exports/pg15/initial.values");
    let v = table::parse_initial_values(&text).expect("parse");
    let get = |n: &str| v.iter().find(|i| i.name == n).map(|i| i.value.clone());
    assert_eq!(get("work_mem"), Some(table::InitialValue::Int(4096)));
    assert_eq!(
        get("maintenance_work_mem"),
        Some(table::InitialValue::Int(65536))
    );
    assert_eq!(get("MaxConnections"), Some(table::InitialValue::Int(100)));
    assert_eq!(get("NBuffers"), Some(table::InitialValue::Int(16384)));
    assert_eq!(get("StatementTimeout"), Some(table::InitialValue::Int(0)));
    assert_eq!(
        get("pgstat_track_activities"),
        Some(table::InitialValue::Bool(true))
    );
}
