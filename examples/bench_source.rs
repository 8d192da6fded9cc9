//! The source search alone, for `bench/source.sh` (not part of kindscope).
//!
//! `bench_source DIR IMAGE SUGGESTED` — search DIR for where IMAGE comes from (and for code that
//! strips the prefix SUGGESTED adds), with no time budget, and print one JSON line:
//! `{"files","bytes","seconds","files_per_second","sources","complete"}`.

use std::time::{Duration, Instant};

use kindscope::source::{Budget, needles_for, search};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, image, suggested] = args.as_slice() else {
        eprintln!("usage: bench_source DIR IMAGE SUGGESTED");
        std::process::exit(2);
    };
    let needles = needles_for([(image.as_str(), Some(suggested.as_str()))]);
    let budget = Budget {
        time: Duration::from_secs(3600),
        max_per_image: usize::MAX,
        ..Budget::default()
    };
    let t = Instant::now();
    let out = search(std::path::Path::new(dir), &needles, budget);
    let secs = t.elapsed().as_secs_f64();
    let sources: usize = out
        .per_image
        .iter()
        .chain(&out.per_prefix)
        .map(Vec::len)
        .sum();
    println!(
        "{{\"files\":{},\"bytes\":{},\"seconds\":{secs:.3},\"files_per_second\":{:.0},\"sources\":{sources},\"complete\":{}}}",
        out.files,
        out.bytes,
        out.files as f64 / secs.max(1e-9),
        out.complete
    );
}
