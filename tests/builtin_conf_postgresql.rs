//! PostgreSQL's own settings (`work_mem`, `statement_timeout`,
//! `shared_buffers`, ...) given in RUNDIR/bgworker.conf or with `-c`, as a
//! module moved from postgresql.conf expects: the values its `_PG_init` and
//! workers see, PostgreSQL's FATAL at start for a bad one, and a reload's
//! LOG lines (invalid value kept out, a postmaster setting needing a
//! restart, a removed setting reset), and `GetConfigOptionResetString`
//! after SET and RESET. Compared with the real PostgreSQL 15
//! server given the same lines in postgresql.conf.

mod common;

use std::path::Path;

use common::pg::{message_of, PgServer};
use common::*;

const START_CONF: &str = "work_mem = '64MB'\nmaintenance_work_mem = 131072\n\
    statement_timeout = '90s'\napplication_name = 'from conf'\nshared_buffers = '32MB'\n";
const RELOAD_CONF: &str = "work_mem = 'abc'\nmaintenance_work_mem = 131072\n\
    statement_timeout = '5s'\nshared_buffers = '64MB'\n";
const BAD_CONF: &str =
    "work_mem = 'abc'\nmaintenance_work_mem = '64XB'\nserver_version = '3'\nstatement_timeout = 1\n";

/// The lines about settings and the module's own, configuration file
/// names masked (postgresql.conf there, bgworker.conf here).
fn settings_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| message_of(l))
        .filter(|m| {
            m.contains("cxf ")
                || m.contains("parameter \"")
                || m.contains("configuration file")
                || m.starts_with("HINT:")
        })
        .map(|m| match m.find("configuration file \"") {
            Some(i) => {
                let rest = &m[i + 20..];
                let end = rest.find('"').map(|e| e + 1).unwrap_or(0);
                format!("{}configuration file \"F\"{}", &m[..i], &rest[end..])
            }
            None => m,
        })
        .collect()
}

fn daemon(name: &str, module: &Path) -> DaemonBuilder {
    Daemon::builder(name).preload(&[module]).set(
        "dynamic_library_path",
        module.parent().unwrap().to_str().unwrap(),
    )
}

/// Values from the file reach `_PG_init` and the worker; a reload logs
/// what PostgreSQL's postmaster logs, in its order.
#[test]
fn builtin_settings_in_the_file_match_postgresql() {
    let _w = watchdog(120, "builtin_settings_in_the_file");
    let m = pgxs_module("compat/cx_confguc.c");
    let d = daemon("cx_confguc", &m).conf_file(START_CONF).start();
    d.wait_log("cxf done", secs(20));
    let cur = d.log_len();
    std::fs::write(d.rundir().join("bgworker.conf"), RELOAD_CONF).unwrap();
    d.signal(libc::SIGHUP);
    d.wait_log_from(cur, "unaffected changes were applied", secs(20));
    let ours = settings_lines(&d.log_lines());

    let pg = PgServer::start_with_conf("cx_confguc", &[&m], START_CONF);
    pg.wait_log("cxf done", secs(30));
    let cur = pg.log_len();
    pg.rewrite_extra_conf(RELOAD_CONF);
    pg.signal(libc::SIGHUP);
    pg.wait_log_from(cur, "unaffected changes were applied", secs(30));
    let theirs = settings_lines(&pg.log_lines());
    assert_eq!(ours, theirs, "settings lines (ours vs PostgreSQL 15)");
    for needle in [
        "LOG:  cxf init: work_mem=65536 maintenance_work_mem=131072 StatementTimeout=90000 \
         application_name=from conf shared_buffers=4096 statement_timeout=90000",
        "LOG:  cxf reset after SET: work_mem=65536 statement_timeout=90000 \
         application_name=from conf default_transaction_isolation=read committed \
         seq_page_cost=1 enable_seqscan=on; work_mem now 8192",
        "LOG:  cxf reset after RESET: work_mem=65536 statement_timeout=90000 \
         application_name=from conf default_transaction_isolation=read committed \
         seq_page_cost=1 enable_seqscan=on; work_mem now 65536",
        "LOG:  cxf caught: unrecognized configuration parameter \"no_such_setting\"",
        "LOG:  invalid value for parameter \"work_mem\": \"abc\"",
        "LOG:  parameter \"shared_buffers\" cannot be changed without restarting the server",
        "LOG:  parameter \"statement_timeout\" changed to \"5s\"",
        "LOG:  parameter \"application_name\" removed from configuration file, reset to default",
    ] {
        assert!(
            ours.iter().any(|l| l == needle),
            "missing {needle:?} in\n{}",
            ours.join("\n")
        );
    }
    assert!(d.try_exit().is_none(), "{}", d.log_text());
    d.signal(libc::SIGINT);
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0));
    pg.stop();
}

/// Bad values in the file at start: each logged, then PostgreSQL's FATAL
/// naming the file; nothing of the module ran and nothing is left.
#[test]
fn bad_builtin_settings_in_the_file_stop_the_start_as_in_postgresql() {
    let _w = watchdog(120, "bad_builtin_settings_in_the_file");
    let m = pgxs_module("compat/cx_confguc.c");
    let d = daemon("cx_confguc_bad", &m).conf_file(BAD_CONF).spawn();
    assert_eq!(d.wait_exit(secs(20)).code(), Some(1), "{}", d.log_text());
    let ours = settings_lines(&d.log_lines());
    assert!(!d.pid_file().exists(), "pid file left behind");

    let pg = PgServer::spawn("cx_confguc_bad", &[&m], BAD_CONF, &[]);
    pg.wait_log("contains errors", secs(30));
    pg.wait_exit(secs(30));
    let theirs = settings_lines(&pg.log_lines());
    assert_eq!(ours, theirs, "start-up lines (ours vs PostgreSQL 15)");
    assert_eq!(
        ours,
        [
            "LOG:  invalid value for parameter \"work_mem\": \"abc\"",
            "LOG:  invalid value for parameter \"maintenance_work_mem\": \"64XB\"",
            "HINT:  Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and \"TB\".",
            "LOG:  parameter \"server_version\" cannot be changed",
            "FATAL:  configuration file \"F\" contains errors",
        ]
    );
}

/// A bad `-c` value is PostgreSQL's FATAL at once (the texts of
/// `postgres -c work_mem=1` and `-c maintenance_work_mem=64XB`), and a
/// good one wins over the file.
#[test]
fn builtin_settings_on_the_command_line() {
    let _w = watchdog(60, "builtin_settings_on_the_command_line");
    let m = pgxs_module("compat/cx_confguc.c");
    let d = daemon("cx_confguc_c", &m).set("work_mem", "1").spawn();
    assert_eq!(d.wait_exit(secs(20)).code(), Some(1), "{}", d.log_text());
    d.wait_log(
        "FATAL:  1 kB is outside the valid range for parameter \"work_mem\" (64 .. 2147483647)",
        secs(1),
    );
    assert!(!d.log_text().contains("cxf init"), "{}", d.log_text());
    let d = daemon("cx_confguc_c2", &m)
        .set("maintenance_work_mem", "64XB")
        .spawn();
    assert_eq!(d.wait_exit(secs(20)).code(), Some(1), "{}", d.log_text());
    let (i, _) = d.wait_log_from(
        0,
        "FATAL:  invalid value for parameter \"maintenance_work_mem\": \"64XB\"",
        secs(1),
    );
    d.wait_log_from(
        i,
        "HINT:  Valid units for this parameter are \"B\", \"kB\", \"MB\", \"GB\", and \"TB\".",
        secs(1),
    );
    let d = daemon("cx_confguc_c3", &m)
        .conf_file(START_CONF)
        .set("work_mem", "2MB")
        .start();
    d.wait_log(
        "cxf worker: work_mem=2048 maintenance_work_mem=131072",
        secs(20),
    );
    d.signal(libc::SIGINT);
    assert_eq!(d.wait_exit(secs(10)).code(), Some(0));
}
