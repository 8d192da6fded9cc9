//! The fixtures are kubectl 1.33's own bodies: `kubectl create … ` against a recording server
//! (`.bin`), and the same command with `--dry-run=client -o json` (`.json`), which is the Go
//! JSON encoding of the very object kubectl sent. Decoding the first must give the second.

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/protobuf/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Go writes a zero `metav1.Time` as `null`; the decoder leaves it out, which means the same.
fn without_null_times(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(without_null_times);
        }
        Value::Array(a) => a.iter_mut().for_each(without_null_times),
        _ => {}
    }
}

fn check(name: &str) {
    let decoded = decode(&fixture(&format!("{name}.bin"))).expect("decodes");
    let mut want: Value =
        serde_json::from_slice(&fixture(&format!("{name}.json"))).expect("fixture json");
    without_null_times(&mut want);
    assert_eq!(decoded, want, "{name}");
}

#[test]
fn kubectl_create_bodies_decode_to_their_json() {
    for name in [
        "deployment-web",
        "deployment-zero",
        "configmap",
        "secret",
        "service",
        "namespace",
        "job",
    ] {
        check(name);
    }
}

#[test]
fn a_zero_pointer_field_is_kept() {
    let d = decode(&fixture("deployment-zero.bin")).expect("decodes");
    assert_eq!(d["spec"]["replicas"], json!(0));
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["command"],
        json!(["sleep", "100"])
    );
}

#[test]
fn access_reviews_decode() {
    let r = decode(&fixture("ssar.bin")).expect("decodes");
    assert_eq!(r["kind"], "SelfSubjectAccessReview");
    assert_eq!(
        r["spec"]["resourceAttributes"],
        json!({"namespace": "default", "verb": "get", "resource": "pods"})
    );
    let w = decode(&fixture("ssr.bin")).expect("decodes");
    assert_eq!(w["apiVersion"], "authentication.k8s.io/v1");
    assert_eq!(w["kind"], "SelfSubjectReview");
}

#[test]
fn hostile_bodies_are_bad_requests_not_panics() {
    let body = fixture("deployment-web.bin");
    for cut in 0..body.len() {
        // Every prefix either decodes (a shorter but valid message) or is refused; never a panic.
        let _ = decode(&body[..cut]);
    }
    assert_eq!(decode(b"{}").expect_err("not protobuf").code, 400);
    // A group wire type (3), and a length past the end.
    for garbage in [&b"k8s\0\x0b"[..], &b"k8s\0\x0a\x7f\x0a"[..]] {
        assert_eq!(decode(garbage).expect_err("malformed").code, 400);
    }
}

#[test]
fn an_unknown_type_is_415_naming_it() {
    let mut tm = vec![0x0a, 0x0f];
    tm.extend_from_slice(b"example.com/v1a");
    tm.extend_from_slice(&[0x12, 0x06]);
    tm.extend_from_slice(b"Widget");
    let mut b = MAGIC.to_vec();
    b.push(0x0a);
    b.push(tm.len() as u8);
    b.extend_from_slice(&tm);
    let e = decode(&b).expect_err("unknown type");
    assert_eq!(e.code, 415);
    assert!(
        e.message.contains("Widget example.com/v1a"),
        "{}",
        e.message
    );
}

#[test]
fn go_durations() {
    assert_eq!(duration(0), "0s");
    assert_eq!(duration(1_500_000_000), "1.5s");
    assert_eq!(duration(3_723_000_000_000), "1h2m3s");
    assert_eq!(duration(300_000_000_000), "5m0s");
}
