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
