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
