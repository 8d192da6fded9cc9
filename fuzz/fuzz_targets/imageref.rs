//! `ImageRef::parse` on arbitrary bytes: never panics, and every accepted reference is in
//! normal form — its full and familiar forms parse back to the same reference, and printing
//! them again gives the same strings.
#![no_main]

use kindscope::imageref::{ImageRef, default_pull_policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = default_pull_policy(s);
    let Ok(r) = ImageRef::parse(s) else {
        return;
    };
    let full = r.full();
    let familiar = r.familiar();
    let from_full = ImageRef::parse(&full).expect("the full form of a valid reference parses");
    assert_eq!(from_full, r, "full form {full:?} of {s:?}");
    let from_familiar =
        ImageRef::parse(&familiar).expect("the familiar form of a valid reference parses");
    assert_eq!(from_familiar, r, "familiar form {familiar:?} of {s:?}");
    assert_eq!(from_familiar.familiar(), familiar);
    assert_eq!(from_full.full(), full);
});
