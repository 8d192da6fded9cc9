//! Query strings and field selectors, as the fixture server reads them.

use serde_json::Value;

/// `a.b=c` and `a.b!=c` terms, comma-separated, on the object's JSON (what kindscope sends for
/// events: `involvedObject.kind=Pod,reason!=Pulled,…`).
pub fn field_selector_matches(sel: &str, o: &Value) -> bool {
    sel.split(',').filter(|t| !t.is_empty()).all(|term| {
        let (path, want, negate) = match term.split_once("!=") {
            Some((p, v)) => (p, v, true),
            None => match term.split_once('=') {
                Some((p, v)) => (p, v.trim_start_matches('='), false),
                None => return true,
            },
        };
        let got = path.split('.').fold(o, |v, k| &v[k]);
        let got = got.as_str().map(String::from).unwrap_or_else(|| {
            if got.is_null() {
                String::new()
            } else {
                got.to_string()
            }
        });
        (got == want) != negate
    })
}

pub fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(x) => {
                    out.push(x);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn selectors_and_escapes_read_as_the_apiserver_reads_them() {
    let q = url_pairs("fieldSelector=involvedObject.kind%3DPod%2Creason%21%3DPulled&watch=true");
    assert_eq!(q[0].1, "involvedObject.kind=Pod,reason!=Pulled");
    let ev = serde_json::json!({"involvedObject": {"kind": "Pod"}, "reason": "Failed"});
    assert!(field_selector_matches(&q[0].1, &ev));
    let pulled = serde_json::json!({"involvedObject": {"kind": "Pod"}, "reason": "Pulled"});
    assert!(!field_selector_matches(&q[0].1, &pulled));
}
