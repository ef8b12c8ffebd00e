use super::*;

#[test]
fn custom_names() {
    assert!(
        valid_custom_name("a.b") && valid_custom_name("cx.nap_time2") && valid_custom_name("a.b.c")
    );
    for bad in ["ab", ".a", "a.", "a..b", "1a.b", "a.b-c", ""] {
        assert!(!valid_custom_name(bad), "{bad}");
    }
}

#[test]
fn numbers_and_units() {
    assert_eq!(parse_number("42", 0, false), Ok(42.0));
    assert_eq!(parse_number("0x10", 0, false), Ok(16.0));
    assert_eq!(parse_number("010", 0, false), Ok(8.0));
    assert_eq!(parse_number(" 5 s", GUC_UNIT_MS, false), Ok(5000.0));
    assert_eq!(parse_number("2min", GUC_UNIT_S, false), Ok(120.0));
    assert_eq!(parse_number("1500ms", GUC_UNIT_S, false), Ok(1.5));
    assert_eq!(parse_number("1MB", GUC_UNIT_KB, false), Ok(1024.0));
    assert_eq!(parse_number("64kB", GUC_UNIT_BLOCKS, false), Ok(8.0));
    assert_eq!(
        parse_number("5 parsecs", GUC_UNIT_MS, false),
        Err(Some(TIME_UNITS_HINT.into()))
    );
    assert_eq!(parse_number("5s", 0, false), Err(None));
    assert_eq!(parse_number("abc", 0, false), Err(None));
    assert_eq!(parse_number("1.5e3", 0, true), Ok(1500.0));
}

#[test]
fn flags_of_17_and_18_read_as_15s() {
    use super::define::flags_as_15;
    // 15: unchanged.
    assert_eq!(flags_as_15(0x20 | GUC_UNIT_MS, 15), 0x20 | GUC_UNIT_MS);
    // 17/18 values from their utils/guc.h.
    for major in [17, 18] {
        assert_eq!(flags_as_15(0x1000_0000, major), GUC_UNIT_MS);
        assert_eq!(flags_as_15(0x2000_0000, major), GUC_UNIT_S);
        assert_eq!(flags_as_15(0x3000_0000, major), GUC_UNIT_MIN);
        assert_eq!(flags_as_15(0x0100_0000, major), GUC_UNIT_KB);
        assert_eq!(flags_as_15(0x0200_0000, major), GUC_UNIT_BLOCKS);
        assert_eq!(flags_as_15(0x0400_0000, major), GUC_UNIT_MB);
        assert_eq!(flags_as_15(0x0500_0000, major), GUC_UNIT_BYTE);
        // GUC_NOT_IN_SAMPLE | GUC_SUPERUSER_ONLY | GUC_EXPLAIN
        assert_eq!(
            flags_as_15(0x80 | 0x400 | 0x20, major),
            0x20 | 0x100 | 0x100000
        );
        assert_eq!(flags_as_15(0x1 | 0x4, major), 0x1 | 0x4);
    }
}

/// Every built-in setting of every major (exports/pgMAJOR/settings) has a
/// boot value its type reads, within its range, and an enum's among its
/// values: the registry never falls back to a made-up default.
#[test]
fn builtin_settings_boot_values_are_valid() {
    use builtin::{BuiltinType, BUILTINS};
    assert_eq!(BUILTINS.len(), 3, "15, 17 and 18");
    for (major, list) in BUILTINS {
        assert!(list.len() > 300, "{major}: only {} settings", list.len());
        for b in list.iter() {
            let at = format!("{major} {}: boot {:?}", b.name, b.boot);
            match b.ty {
                BuiltinType::Bool => assert!(matches!(b.boot, Some("on" | "off")), "{at}"),
                BuiltinType::Int => {
                    let v: f64 = b
                        .boot
                        .and_then(|s| s.parse::<i32>().ok())
                        .expect(&at)
                        .into();
                    assert!(
                        b.min <= v && v <= b.max,
                        "{at} outside {} .. {}",
                        b.min,
                        b.max
                    );
                }
                BuiltinType::Real => {
                    let v: f64 = b.boot.and_then(|s| s.parse().ok()).expect(&at);
                    assert!(
                        b.min <= v && v <= b.max,
                        "{at} outside {} .. {}",
                        b.min,
                        b.max
                    );
                }
                BuiltinType::Str => {}
                BuiltinType::Enum => assert!(
                    b.options.iter().any(|o| Some(o.0) == b.boot),
                    "{at} not among {:?}",
                    b.options
                ),
            }
        }
        let work_mem = list
            .iter()
            .find(|b| b.name == "work_mem")
            .expect("work_mem");
        assert_eq!(
            (work_mem.ty, work_mem.boot, work_mem.flags),
            (BuiltinType::Int, Some("4096"), GUC_UNIT_KB)
        );
        assert!(
            work_mem.var.is_some(),
            "{major}: work_mem has its C variable"
        );
    }
}
