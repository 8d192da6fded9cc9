//! The scenario loader on arbitrary text: never panics (a bad file is an error naming the
//! document and line), and an accepted scenario can be turned into a cluster.
#![no_main]

use kindscope::sim::scenario;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match scenario::parse(text, "fuzz.yaml") {
        Ok(s) => {
            // Populating a store exercises every manifest the loader accepted.
            let store = kindscope::sim::store::Store::new(0);
            let _ = kindscope::sim::cluster::populate(&store, &s);
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("fuzz.yaml"), "errors name the file: {msg}");
        }
    }
});
