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
