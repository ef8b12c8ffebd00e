//! Reader of the export table (exports/bgworker.exports). Shared by the
//! build scripts (included with `#[path]`) and the tests, so that every
//! reader agrees on its format. Plain std only.

#![allow(dead_code)]

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Func,
    Var,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provision {
    /// This project's code.
    Implemented,
    /// PostgreSQL's own code (libpgport, libpgcommon), linked in.
    Postgres,
    /// Needs the database server: a generated entry ending the worker with
    /// a FATAL that names the function.
    Unavailable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Core,
    Pgrt,
    Root,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    pub kind: Kind,
    /// PostgreSQL majors whose postgres binary exports the name; empty for
    /// libbgworker's own names.
    pub majors: Vec<u32>,
    pub provision: Provision,
    pub layer: Layer,
}

/// Parse the table text; errors name the line.
pub fn parse(text: &str) -> Result<Vec<Row>, String> {
    let mut rows: Vec<Row> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = |what: &str| format!("export table line {}: {what}: {line:?}", i + 1);
        let f: Vec<&str> = line.split_whitespace().collect();
        let [name, kind, majors, provision, layer] = f[..] else {
            return Err(at("expected 5 columns"));
        };
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(at("not a C identifier"));
        }
        if !seen.insert(name.to_string()) {
            return Err(at("name listed twice"));
        }
        let kind = match kind {
            "func" => Kind::Func,
            "var" => Kind::Var,
            _ => return Err(at("kind is func or var")),
        };
        let majors = if majors == "-" {
            Vec::new()
        } else {
            majors
                .split(',')
                .map(|m| {
                    m.parse::<u32>()
                        .map_err(|_| at("majors: numbers separated by commas, or -"))
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        if majors.is_empty() != name.starts_with("bgw_") {
            return Err(at(
                "libbgworker's own names (bgw_*) and only they have majors -",
            ));
        }
        let provision = match provision {
            "implemented" => Provision::Implemented,
            "postgres" => Provision::Postgres,
            "unavailable" => Provision::Unavailable,
            _ => return Err(at("provision is implemented, postgres or unavailable")),
        };
        let layer = match layer {
            "core" => Layer::Core,
            "pgrt" => Layer::Pgrt,
            "root" => Layer::Root,
            _ => return Err(at("layer is core, pgrt or root")),
        };
        rows.push(Row {
            name: name.to_string(),
            kind,
            majors,
            provision,
            layer,
        });
    }
    Ok(rows)
}

/// Read and parse the table at `path`.
pub fn read(path: &Path) -> Result<Vec<Row>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text)
}

/// The PostgreSQL majors whose exported surface the build provides; each
/// has its real server's symbol table in exports/pgMAJOR/postgres.symbols.
pub const MAJORS: &[u32] = &[15, 17, 18];

/// exports/pgMAJOR/initial.values under `exports_dir`, parsed; empty when
/// that major has no such file (only PostgreSQL 15's, whose Debian binary
/// and headers the derivation needs, is generated): its variables then
/// follow the other majors' values, and the runtime assigns every major's
/// own setting boot values at start (see exports/pgMAJOR/settings).
pub fn read_initial_values(exports_dir: &Path, major: u32) -> Result<Vec<Initial>, String> {
    let p = exports_dir.join(format!("pg{major}/initial.values"));
    match std::fs::read_to_string(&p) {
        Ok(text) => parse_initial_values(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", p.display())),
    }
}

/// One line of exports/pgMAJOR/postgres.symbols: a name the real postgres
/// binary of that major exports, its kind and its size in bytes.
#[derive(Clone, Debug)]
pub struct PgSymbol {
    pub name: String,
    pub kind: Kind,
    pub size: u64,
}

/// Parse a postgres.symbols text; errors name the line.
pub fn parse_pg_symbols(text: &str) -> Result<Vec<PgSymbol>, String> {
    let mut v = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let at = |what: &str| format!("postgres.symbols line {}: {what}: {line:?}", i + 1);
        let f: Vec<&str> = line.split_whitespace().collect();
        let [name, kind, size] = f[..] else {
            return Err(at("expected NAME KIND SIZE"));
        };
        let kind = match kind {
            "F" => Kind::Func,
            "V" => Kind::Var,
            _ => return Err(at("kind is F or V")),
        };
        let size = size.parse().map_err(|_| at("size is a number"))?;
        v.push(PgSymbol {
            name: name.to_string(),
            kind,
            size,
        });
    }
    Ok(v)
}

/// The names of exports/pgMAJOR/port-common.symbols that the platform's
/// libc defines too (libc replacements libc already has: never exported).
pub fn parse_libc_replacements(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 5 && f[4] == "libc").then(|| f[0].to_string())
        })
        .collect()
}

/// A name no table row lists that a supported major's postgres exports:
/// a function gets a generated entry that ends the caller with a FATAL
/// naming it (it needs the database server), a variable storage of its
/// real size (zero, or the setting's boot value, see settings.vars).
#[derive(Clone, Debug)]
pub struct Generated {
    pub name: String,
    pub kind: Kind,
    /// The largest size any supported major gives it.
    pub size: u64,
    pub majors: Vec<u32>,
}

/// Every generated name, sorted by name, from the symbol lists under
/// `exports_dir` (exports/) for each of [`MAJORS`], minus the table's
/// `rows` and libc replacements. A name whose kind differs between majors
/// is an error.
pub fn generated(exports_dir: &Path, rows: &[Row]) -> Result<Vec<Generated>, String> {
    let listed: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let mut all: std::collections::BTreeMap<String, Generated> = Default::default();
    for &major in MAJORS {
        let dir = exports_dir.join(format!("pg{major}"));
        let read = |f: &str| {
            let p = dir.join(f);
            std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
        };
        let libc: std::collections::BTreeSet<String> =
            parse_libc_replacements(&read("port-common.symbols")?)
                .into_iter()
                .collect();
        for s in parse_pg_symbols(&read("postgres.symbols")?)? {
            if listed.contains(s.name.as_str()) || libc.contains(&s.name) {
                continue;
            }
            let g = all.entry(s.name.clone()).or_insert_with(|| Generated {
                name: s.name.clone(),
                kind: s.kind,
                size: 0,
                majors: Vec::new(),
            });
            if g.kind != s.kind {
                return Err(format!(
                    "{}: a function in one major, a variable in another",
                    s.name
                ));
            }
            g.size = g.size.max(s.size);
            g.majors.push(major);
        }
    }
    Ok(all.into_values().collect())
}

/// An initial value of exports/pgMAJOR/initial.values.
#[derive(Clone, Debug, PartialEq)]
pub enum InitialValue {
    Bool(bool),
    Int(i32),
    /// An enum setting's C value.
    Enum(i32),
    Real(f64),
    /// A string setting's boot value (`char *`); None is NULL.
    Str(Option<String>),
    /// A plain initializer, byte by byte.
    Data(Vec<u8>),
    /// An initializer with addresses inside postgres: zero here.
    Address,
}

#[derive(Clone, Debug)]
pub struct Initial {
    pub name: String,
    /// The setting behind the variable, if any.
    pub setting: Option<String>,
    pub value: InitialValue,
}

/// Parse an initial.values text; errors name the line.
pub fn parse_initial_values(text: &str) -> Result<Vec<Initial>, String> {
    let mut v = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let at = |what: &str| format!("initial.values line {}: {what}: {line:?}", i + 1);
        let mut f = line.splitn(4, ' ');
        let (Some(name), Some(source)) = (f.next(), f.next()) else {
            return Err(at("expected NAME SOURCE ..."));
        };
        let (setting, value) = if let Some(guc) = source.strip_prefix("setting:") {
            let (Some(ty), Some(val)) = (f.next(), f.next()) else {
                return Err(at("expected setting:GUC TYPE VALUE"));
            };
            let num = |s: &str| s.parse::<i32>().map_err(|_| at("not a number"));
            let value = match ty {
                "bool" => InitialValue::Bool(num(val)? != 0),
                "int" => InitialValue::Int(num(val)?),
                "enum" => InitialValue::Enum(num(val)?),
                "real" => InitialValue::Real(val.parse().map_err(|_| at("not a number"))?),
                "string" if val == "NULL" => InitialValue::Str(None),
                "string" => InitialValue::Str(Some(
                    val.strip_prefix('"')
                        .and_then(|s| s.strip_suffix('"'))
                        .ok_or_else(|| at("a string is \"TEXT\" or NULL"))?
                        .to_string(),
                )),
                _ => return Err(at("type is bool, int, real, enum or string")),
            };
            (Some(guc.to_string()), value)
        } else {
            let rest = f.next().unwrap_or("");
            let value = match source {
                "data" => {
                    if rest.len() % 2 != 0 {
                        return Err(at("odd hex"));
                    }
                    InitialValue::Data(
                        (0..rest.len())
                            .step_by(2)
                            .map(|k| {
                                u8::from_str_radix(&rest[k..k + 2], 16).map_err(|_| at("not hex"))
                            })
                            .collect::<Result<_, _>>()?,
                    )
                }
                "address" => InitialValue::Address,
                _ => return Err(at("source is setting:GUC, data or address")),
            };
            (None, value)
        };
        v.push(Initial {
            name: name.to_string(),
            setting,
            value,
        });
    }
    Ok(v)
}

/// Rust code referencing every `(name, kind)` of `names` (for a build
/// script to write into OUT_DIR and the artefact to `include!`): a
/// `#[used]` array of their addresses, so that the linker keeps each
/// definition, and a name whose definition is missing fails the link
/// instead of silently leaving modules with an undefined symbol.
pub fn export_refs_code(names: &[(&str, Kind)]) -> String {
    use std::fmt::Write as _;
    let mut decls = String::new();
    let mut refs = String::new();
    for &(name, kind) in names {
        match kind {
            Kind::Func => {
                writeln!(decls, "        pub fn {name}();").expect("String");
                writeln!(refs, "        {name} as *const (),").expect("String");
            }
            Kind::Var => {
                writeln!(decls, "        pub static {name}: u8;").expect("String");
                writeln!(refs, "        &raw const {name} as *const (),").expect("String");
            }
        }
    }
    format!(
        "// Generated from exports/ by a build script.\n\
         #[allow(clashing_extern_declarations, non_upper_case_globals, dead_code)]\n\
         mod export_refs {{\n\
         \x20   unsafe extern \"C\" {{\n{decls}    }}\n\
         \x20   /// Addresses only; never dereferenced or called through.\n\
         \x20   pub struct Refs(pub [*const (); {n}]);\n\
         \x20   // SAFETY: the pointers are addresses that nothing reads through.\n\
         \x20   unsafe impl Sync for Refs {{}}\n\
         \x20   #[used]\n\
         \x20   pub static REFS: Refs = Refs([\n{refs}    ]);\n\
         }}\n",
        n = names.len()
    )
}

/// Every name the PostgreSQL runtime's artefacts (bgworkerd,
/// libbgworker_pg) export: the table's rows and the generated rest.
pub fn runtime_surface<'a>(rows: &'a [Row], generated: &'a [Generated]) -> Vec<(&'a str, Kind)> {
    rows.iter()
        .map(|r| (r.name.as_str(), r.kind))
        .chain(generated.iter().map(|g| (g.name.as_str(), g.kind)))
        .collect()
}

/// The names the plain libbgworker exports: the core's rows only
/// (bgworker.h's functions and variable, and the `bgw_*` API).
pub fn plain_surface(rows: &[Row]) -> Vec<(&str, Kind)> {
    rows.iter()
        .filter(|r| r.layer == Layer::Core)
        .map(|r| (r.name.as_str(), r.kind))
        .collect()
}
