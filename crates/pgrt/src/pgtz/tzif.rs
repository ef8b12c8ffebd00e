//! Reading a compiled zone file (TZif, RFC 8536; versions 1 to 3) into a
//! zone state as PostgreSQL's time zone library does: the 64-bit section
//! of a version 2+ file (the 32-bit one of a version 1 file), leap-second
//! records, and the POSIX TZ footer, whose transitions are appended after
//! the file's last one (up to TZ_MAX_TIMES), so that times past the table
//! follow the footer's rules.

use super::posix::tzparse;
use super::{State, TType, TZ_MAX_CHARS, TZ_MAX_LEAPS, TZ_MAX_TIMES, TZ_MAX_TYPES};
use crate::pgtz::calendar::SECS_PER_REPEAT;

struct Header {
    version: u8,
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

fn be32(b: &[u8]) -> i64 {
    i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn be64(b: &[u8]) -> i64 {
    i64::from_be_bytes(b[..8].try_into().unwrap_or([0; 8]))
}

fn header(b: &[u8]) -> Option<Header> {
    if b.len() < 44 || &b[..4] != b"TZif" {
        return None;
    }
    let n = |i: usize| usize::try_from(be32(&b[20 + 4 * i..])).ok();
    let h = Header {
        version: b[4],
        isutcnt: n(0)?,
        isstdcnt: n(1)?,
        leapcnt: n(2)?,
        timecnt: n(3)?,
        typecnt: n(4)?,
        charcnt: n(5)?,
    };
    let ok = h.leapcnt < TZ_MAX_LEAPS
        && 0 < h.typecnt
        && h.typecnt < TZ_MAX_TYPES
        && h.timecnt < TZ_MAX_TIMES
        && h.charcnt < TZ_MAX_CHARS
        && (h.isstdcnt == h.typecnt || h.isstdcnt == 0)
        && (h.isutcnt == h.typecnt || h.isutcnt == 0);
    ok.then_some(h)
}

fn data_len(h: &Header, stored: usize) -> usize {
    h.timecnt * stored
        + h.timecnt
        + h.typecnt * 6
        + h.charcnt
        + h.leapcnt * (stored + 4)
        + h.isstdcnt
        + h.isutcnt
}

/// One data block (`stored`: 4 or 8 bytes a time) into a state.
fn block(h: &Header, b: &[u8], stored: usize) -> Option<State> {
    if b.len() < data_len(h, stored) {
        return None;
    }
    let time = |p: &[u8]| if stored == 4 { be32(p) } else { be64(p) };
    let mut sp = State::default();
    let mut p = 0;
    // A transition at the same time as the one before replaces it.
    let mut kept = vec![true; h.timecnt];
    for i in 0..h.timecnt {
        let at = time(&b[p..]);
        p += stored;
        if let Some(&last) = sp.ats.last() {
            if at < last {
                return None;
            }
            if at == last {
                sp.ats.pop();
                kept[i - 1] = false;
            }
        }
        sp.ats.push(at);
    }
    for (i, &k) in kept.iter().enumerate() {
        let typ = usize::from(b[p + i]);
        if typ >= h.typecnt {
            return None;
        }
        if k {
            sp.types.push(typ);
        }
    }
    p += h.timecnt;
    for _ in 0..h.typecnt {
        let utoff = be32(&b[p..]);
        let isdst = b[p + 4];
        let abbr = usize::from(b[p + 5]);
        p += 6;
        if isdst > 1 || abbr >= h.charcnt {
            return None;
        }
        sp.ttis.push(TType::new(utoff, isdst == 1, abbr));
    }
    sp.chars = b[p..p + h.charcnt].to_vec();
    sp.chars.push(0);
    p += h.charcnt;
    for _ in 0..h.leapcnt {
        let tr = time(&b[p..]);
        let corr = be32(&b[p + stored..]);
        p += stored + 4;
        if let Some(&(last, _)) = sp.leaps.last() {
            if tr < last {
                return None;
            }
            if tr == last {
                sp.leaps.pop();
            }
        }
        sp.leaps.push((tr, corr));
    }
    for i in 0..h.isstdcnt {
        if b[p + i] > 1 {
            return None;
        }
        sp.ttis[i].ttisstd = b[p + i] == 1;
    }
    p += h.isstdcnt;
    for i in 0..h.isutcnt {
        if b[p + i] > 1 {
            return None;
        }
        sp.ttis[i].ttisut = b[p + i] == 1;
    }
    Some(sp)
}

/// Are types `a` and `b` of `sp` the same in every respect?
fn typesequiv(sp: &State, a: usize, b: usize) -> bool {
    let (Some(x), Some(y)) = (sp.ttis.get(a), sp.ttis.get(b)) else {
        return false;
    };
    x.utoff == y.utoff
        && x.isdst == y.isdst
        && x.ttisstd == y.ttisstd
        && x.ttisut == y.ttisut
        && sp.abbr(x.abbr) == sp.abbr(y.abbr)
}

/// Leap-second correction in force at `t`.
fn leapcorr(sp: &State, t: i64) -> i64 {
    sp.leaps
        .iter()
        .rev()
        .find(|(tr, _)| *tr <= t)
        .map(|(_, c)| *c)
        .unwrap_or(0)
}

/// Append the footer's transitions after the table's last one.
fn extend(sp: &mut State, footer: &[u8]) {
    let Some(mut ts) = tzparse(footer) else {
        return;
    };
    // Reuse the table's abbreviations where the footer's are there already.
    let mut chars = sp.chars.clone();
    chars.pop();
    let mut got = 0;
    for tt in ts.ttis.iter_mut() {
        let name = ts_abbr(&ts.chars, tt.abbr).to_vec();
        let mut found = None;
        let mut j = 0;
        while j < chars.len() {
            if ts_abbr(&chars, j) == name.as_slice() {
                found = Some(j);
                break;
            }
            j += 1;
        }
        match found {
            Some(j) => {
                tt.abbr = j;
                got += 1;
            }
            None => {
                let j = chars.len();
                if j + name.len() < TZ_MAX_CHARS {
                    chars.extend_from_slice(&name);
                    chars.push(0);
                    tt.abbr = j;
                    got += 1;
                }
            }
        }
    }
    if got != ts.ttis.len() {
        return;
    }
    chars.push(0);
    sp.chars = chars;
    // Trailing transitions that change nothing are dropped.
    while sp.ats.len() > 1 && sp.types[sp.ats.len() - 1] == sp.types[sp.ats.len() - 2] {
        sp.ats.pop();
        sp.types.pop();
    }
    let base = sp.ttis.len();
    let mut i = 0;
    while i < ts.ats.len() {
        match sp.ats.last() {
            Some(&last) if last >= ts.ats[i] + leapcorr(sp, ts.ats[i]) => i += 1,
            _ => break,
        }
    }
    while i < ts.ats.len() && sp.ats.len() < TZ_MAX_TIMES {
        let at = ts.ats[i] + leapcorr(sp, ts.ats[i]);
        sp.ats.push(at);
        sp.types.push(base + ts.types[i]);
        i += 1;
    }
    sp.ttis.append(&mut ts.ttis);
}

fn ts_abbr(chars: &[u8], at: usize) -> &[u8] {
    let rest = chars.get(at..).unwrap_or(&[]);
    let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    &rest[..end]
}

/// The zone state of TZif data `b`; None if it is not valid TZif.
pub fn load(b: &[u8]) -> Option<State> {
    let h1 = header(b)?;
    let mut sp;
    let rest: &[u8];
    if h1.version == 0 {
        sp = block(&h1, &b[44..], 4)?;
        rest = &[];
    } else {
        let skip = 44 + data_len(&h1, 4);
        let b2 = b.get(skip..)?;
        let h2 = header(b2)?;
        sp = block(&h2, &b2[44..], 8)?;
        rest = b2.get(44 + data_len(&h2, 8)..).unwrap_or(&[]);
    }
    if rest.len() > 2
        && rest[0] == b'\n'
        && rest[rest.len() - 1] == b'\n'
        && sp.ttis.len() + 2 <= TZ_MAX_TYPES
    {
        extend(&mut sp, &rest[1..rest.len() - 1]);
    }
    if sp.ats.len() > 1 {
        let n = sp.ats.len();
        sp.goback = (1..n).any(|i| {
            typesequiv(&sp, sp.types[i], sp.types[0]) && sp.ats[i] - sp.ats[0] == SECS_PER_REPEAT
        });
        sp.goahead = (0..n - 1).rev().any(|i| {
            typesequiv(&sp, sp.types[n - 1], sp.types[i])
                && sp.ats[n - 1] - sp.ats[i] == SECS_PER_REPEAT
        });
    }
    sp.defaulttype = default_type(&sp);
    Some(sp)
}

/// The type for times before the first transition: type 0 if no
/// transition uses it; else, if the first transition is to daylight time,
/// the closest standard type below it; else the first standard type.
fn default_type(sp: &State) -> usize {
    if !sp.types.contains(&0) {
        return 0;
    }
    if let Some(&first) = sp.types.first() {
        if sp.ttis[first].isdst {
            if let Some(i) = (0..first).rev().find(|&i| !sp.ttis[i].isdst) {
                return i;
            }
        }
    }
    sp.ttis.iter().position(|t| !t.isdst).unwrap_or(0)
}
