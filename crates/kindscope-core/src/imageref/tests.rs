//! Docker's own tables (distribution/reference `reference_test.go` and `normalize_test.go`,
//! v0.6), ported, plus the kubelet's pull-policy defaulting and property tests.

use super::*;

/// The apiserver's default, as the cluster applies it (`k8s`, which builds on this module).
fn default_pull_policy(image: &str) -> &'static str {
    crate::k8s::PullPolicy::default_for(image).as_str()
}

const FF64: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const FF128: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const HEX64: &str = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";

fn ok(input: &str) -> ImageRef {
    match ImageRef::parse(input) {
        Ok(r) => r,
        Err(e) => panic!("{input:?} should parse: {e}"),
    }
}

fn fails(input: &str) -> String {
    match ImageRef::parse(input) {
        Ok(r) => panic!("{input:?} should not parse, got {r:?}"),
        Err(e) => e.0,
    }
}

/// reference_test.go `TestReferenceParse` (v0.6: the length limit is on the path): Docker's
/// plain `Parse`, without normalisation.
/// (input, Ok((domain, repository, tag, digest)) | Err(message))
#[test]
fn docker_plain_parse_table() {
    type Want = Result<(&'static str, String, &'static str, String), &'static str>;
    let d = |s: &str| format!("sha256:{s}");
    let long_ok = format!("{}a", "a/".repeat(127));
    let cases: Vec<(String, Want)> = vec![
        (
            "test_com".into(),
            Ok(("", "test_com".into(), "", "".into())),
        ),
        (
            "test.com:tag".into(),
            Ok(("", "test.com".into(), "tag", "".into())),
        ),
        (
            "test.com:5000".into(),
            Ok(("", "test.com".into(), "5000", "".into())),
        ),
        (
            "test.com/repo:tag".into(),
            Ok(("test.com", "test.com/repo".into(), "tag", "".into())),
        ),
        (
            "test:5000/repo".into(),
            Ok(("test:5000", "test:5000/repo".into(), "", "".into())),
        ),
        (
            "test:5000/repo:tag".into(),
            Ok(("test:5000", "test:5000/repo".into(), "tag", "".into())),
        ),
        (
            format!("test:5000/repo@{}", d(FF64)),
            Ok(("test:5000", "test:5000/repo".into(), "", d(FF64))),
        ),
        (
            format!("test:5000/repo:tag@{}", d(FF64)),
            Ok(("test:5000", "test:5000/repo".into(), "tag", d(FF64))),
        ),
        (
            "".into(),
            Err("repository name must have at least one component"),
        ),
        (":justtag".into(), Err("invalid reference format")),
        (format!("@{}", d(FF64)), Err("invalid reference format")),
        (
            "repo@sha256:ffffffffffffffffffffffffffffffffff".into(),
            Err("invalid checksum digest length"),
        ),
        (
            format!("validname@invaliddigest:{FF64}"),
            Err("unsupported digest algorithm"),
        ),
        (
            "Uppercase:tag".into(),
            Err("repository name must be lowercase"),
        ),
        (
            "test:5000/Uppercase/lowercase:tag".into(),
            Err("repository name must be lowercase"),
        ),
        (
            "lowercase:Uppercase".into(),
            Ok(("", "lowercase".into(), "Uppercase", "".into())),
        ),
        (
            format!("domain/{}:tag", "a".repeat(256)),
            Err("repository name must not be more than 255 characters"),
        ),
        (
            format!("example.com/{}:tag", "a".repeat(255)),
            Ok((
                "example.com",
                format!("example.com/{}", "a".repeat(255)),
                "tag",
                "".into(),
            )),
        ),
        (
            format!("{long_ok}:tag-puts-this-over-max"),
            Ok(("a", long_ok.clone(), "tag-puts-this-over-max", "".into())),
        ),
        ("aa/asdf$$^/aa".into(), Err("invalid reference format")),
        (
            "sub-dom1.foo.com/bar/baz/quux".into(),
            Ok((
                "sub-dom1.foo.com",
                "sub-dom1.foo.com/bar/baz/quux".into(),
                "",
                "".into(),
            )),
        ),
        (
            "sub-dom1.foo.com/bar/baz/quux:some-long-tag".into(),
            Ok((
                "sub-dom1.foo.com",
                "sub-dom1.foo.com/bar/baz/quux".into(),
                "some-long-tag",
                "".into(),
            )),
        ),
        (
            "b.gcr.io/test.example.com/my-app:test.example.com".into(),
            Ok((
                "b.gcr.io",
                "b.gcr.io/test.example.com/my-app".into(),
                "test.example.com",
                "".into(),
            )),
        ),
        (
            "xn--n3h.com/myimage:xn--n3h.com".into(),
            Ok((
                "xn--n3h.com",
                "xn--n3h.com/myimage".into(),
                "xn--n3h.com",
                "".into(),
            )),
        ),
        (
            format!("xn--7o8h.com/myimage:xn--7o8h.com@sha512:{FF128}"),
            Ok((
                "xn--7o8h.com",
                "xn--7o8h.com/myimage".into(),
                "xn--7o8h.com",
                format!("sha512:{FF128}"),
            )),
        ),
        (
            "foo_bar.com:8080".into(),
            Ok(("", "foo_bar.com".into(), "8080", "".into())),
        ),
        (
            "foo/foo_bar.com:8080".into(),
            Ok(("foo", "foo/foo_bar.com".into(), "8080", "".into())),
        ),
        (
            "192.168.1.1".into(),
            Ok(("", "192.168.1.1".into(), "", "".into())),
        ),
        (
            "192.168.1.1:tag".into(),
            Ok(("", "192.168.1.1".into(), "tag", "".into())),
        ),
        (
            "192.168.1.1:5000".into(),
            Ok(("", "192.168.1.1".into(), "5000", "".into())),
        ),
        (
            "192.168.1.1/repo".into(),
            Ok(("192.168.1.1", "192.168.1.1/repo".into(), "", "".into())),
        ),
        (
            "192.168.1.1:5000/repo".into(),
            Ok((
                "192.168.1.1:5000",
                "192.168.1.1:5000/repo".into(),
                "",
                "".into(),
            )),
        ),
        (
            "192.168.1.1:5000/repo:5050".into(),
            Ok((
                "192.168.1.1:5000",
                "192.168.1.1:5000/repo".into(),
                "5050",
                "".into(),
            )),
        ),
        ("[2001:db8::1]".into(), Err("invalid reference format")),
        ("[2001:db8::1]:5000".into(), Err("invalid reference format")),
        ("[2001:db8::1]:tag".into(), Err("invalid reference format")),
        (
            "[2001:db8::1]/repo".into(),
            Ok(("[2001:db8::1]", "[2001:db8::1]/repo".into(), "", "".into())),
        ),
        (
            "[2001:db8:1:2:3:4:5:6]/repo:tag".into(),
            Ok((
                "[2001:db8:1:2:3:4:5:6]",
                "[2001:db8:1:2:3:4:5:6]/repo".into(),
                "tag",
                "".into(),
            )),
        ),
        (
            "[2001:db8::1]:5000/repo".into(),
            Ok((
                "[2001:db8::1]:5000",
                "[2001:db8::1]:5000/repo".into(),
                "",
                "".into(),
            )),
        ),
        (
            "[2001:db8::1]:5000/repo:tag".into(),
            Ok((
                "[2001:db8::1]:5000",
                "[2001:db8::1]:5000/repo".into(),
                "tag",
                "".into(),
            )),
        ),
        (
            format!("[2001:db8::1]:5000/repo@{}", d(FF64)),
            Ok((
                "[2001:db8::1]:5000",
                "[2001:db8::1]:5000/repo".into(),
                "",
                d(FF64),
            )),
        ),
        (
            format!("[2001:db8::1]:5000/repo:tag@{}", d(FF64)),
            Ok((
                "[2001:db8::1]:5000",
                "[2001:db8::1]:5000/repo".into(),
                "tag",
                d(FF64),
            )),
        ),
        (
            "[2001:db8::]:5000/repo".into(),
            Ok((
                "[2001:db8::]:5000",
                "[2001:db8::]:5000/repo".into(),
                "",
                "".into(),
            )),
        ),
        (
            "[::1]:5000/repo".into(),
            Ok(("[::1]:5000", "[::1]:5000/repo".into(), "", "".into())),
        ),
        (
            "[fe80::1%eth0]:5000/repo".into(),
            Err("invalid reference format"),
        ),
        (
            "[fe80::1%@invalidzone]:5000/repo".into(),
            Err("invalid reference format"),
        ),
    ];
    for (input, want) in cases {
        let got = parse_plain(&input);
        match (want, got) {
            (Ok((domain, repository, tag, digest)), Ok(r)) => {
                assert_eq!(r.domain, domain, "domain of {input}");
                assert_eq!(r.repository(), repository, "repository of {input}");
                assert_eq!(r.tag.as_deref().unwrap_or(""), tag, "tag of {input}");
                assert_eq!(
                    r.digest.clone().unwrap_or_default(),
                    digest,
                    "digest of {input}"
                );
                assert_eq!(r.full(), input, "String() of {input}");
            }
            (Err(msg), Err(e)) => assert_eq!(e.0, msg, "error of {input}"),
            (want, got) => panic!("{input}: wanted {want:?}, got {got:?}"),
        }
    }
}

/// normalize_test.go `TestValidateReferenceName` and `TestValidateRemoteName`.
#[test]
fn docker_valid_and_invalid_names() {
    let valid = [
        "docker/docker",
        "library/debian",
        "debian",
        "docker.io/docker/docker",
        "docker.io/library/debian",
        "docker.io/debian",
        "index.docker.io/docker/docker",
        "index.docker.io/library/debian",
        "index.docker.io/debian",
        "127.0.0.1:5000/docker/docker",
        "127.0.0.1:5000/library/debian",
        "127.0.0.1:5000/debian",
        "192.168.0.1",
        "192.168.0.1:80",
        "192.168.0.1:8/debian",
        "192.168.0.2:25000/debian",
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "[fc00::1]:5000/docker",
        "[fc00::1]:5000/docker/docker",
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "Docker/docker",
        "DOCKER/docker",
        "docker-rules/docker",
        "docker---rules/docker",
        "doc/docker",
        "d/docker",
        "jess/t",
        "dock__er/docker",
    ];
    for v in valid {
        ok(v);
    }
    let invalid = [
        "https://github.com/docker/docker",
        "docker/Docker",
        "-docker",
        "-docker/docker",
        "-docker.io/docker/docker",
        "docker///docker",
        "docker.io/docker/Docker",
        "docker.io/docker///docker",
        "[fc00::1]",
        "[fc00::1]:5000",
        "fc00::1:5000/debian",
        "[fe80::1%eth0]:5000/debian",
        "[2001:db8:3:4::192.0.2.33]:5000/debian",
        HEX64,
        "docker-/docker",
        "-docker-/docker",
        "____/____",
        "_docker/_docker",
        "dock..er/docker",
        "dock_.er/docker",
        "dock-.er/docker",
        "docker/",
        "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker",
    ];
    for i in invalid {
        fails(i);
    }
}

/// normalize_test.go `TestParseRepositoryInfo`: every spelling gives the same familiar name,
/// full name, domain and path.
#[test]
fn docker_repository_info_table() {
    // (path, familiar, full, ambiguous spelling, domain)
    let cases = [
        (
            "fooo/bar",
            "fooo/bar",
            "docker.io/fooo/bar",
            "index.docker.io/fooo/bar",
            "docker.io",
        ),
        (
            "library/ubuntu",
            "ubuntu",
            "docker.io/library/ubuntu",
            "library/ubuntu",
            "docker.io",
        ),
        (
            "nonlibrary/ubuntu",
            "nonlibrary/ubuntu",
            "docker.io/nonlibrary/ubuntu",
            "",
            "docker.io",
        ),
        (
            "other/library",
            "other/library",
            "docker.io/other/library",
            "",
            "docker.io",
        ),
        (
            "private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "",
            "127.0.0.1:8000",
        ),
        (
            "privatebase",
            "127.0.0.1:8000/privatebase",
            "127.0.0.1:8000/privatebase",
            "",
            "127.0.0.1:8000",
        ),
        (
            "private/moonbase",
            "example.com/private/moonbase",
            "example.com/private/moonbase",
            "",
            "example.com",
        ),
        (
            "privatebase",
            "example.com/privatebase",
            "example.com/privatebase",
            "",
            "example.com",
        ),
        (
            "private/moonbase",
            "example.com:8000/private/moonbase",
            "example.com:8000/private/moonbase",
            "",
            "example.com:8000",
        ),
        (
            "privatebasee",
            "example.com:8000/privatebasee",
            "example.com:8000/privatebasee",
            "",
            "example.com:8000",
        ),
        (
            "library/ubuntu-12.04-base",
            "ubuntu-12.04-base",
            "docker.io/library/ubuntu-12.04-base",
            "index.docker.io/library/ubuntu-12.04-base",
            "docker.io",
        ),
        (
            "library/foo",
            "foo",
            "docker.io/library/foo",
            "docker.io/foo",
            "docker.io",
        ),
        (
            "library/foo/bar",
            "library/foo/bar",
            "docker.io/library/foo/bar",
            "",
            "docker.io",
        ),
        (
            "store/foo/bar",
            "store/foo/bar",
            "docker.io/store/foo/bar",
            "",
            "docker.io",
        ),
        ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
        ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
    ];
    for (path, familiar, full, ambiguous, domain) in cases {
        for input in [familiar, full, ambiguous] {
            if input.is_empty() {
                continue;
            }
            let r = ok(input);
            assert_eq!(r.familiar_name(), familiar, "familiar of {input}");
            assert_eq!(r.full(), full, "full of {input}");
            assert_eq!(r.domain, domain, "domain of {input}");
            assert_eq!(r.path, path, "path of {input}");
        }
    }
}

/// normalize_test.go `TestNormalizedSplitHostname` and `TestParseAnyReference` (named cases).
#[test]
fn docker_normalized_split_table() {
    let cases = [
        ("test.com/foo", "test.com", "foo"),
        ("test_com/foo", "docker.io", "test_com/foo"),
        ("docker/migrator", "docker.io", "docker/migrator"),
        ("test.com:8080/foo", "test.com:8080", "foo"),
        ("test-com:8080/foo", "test-com:8080", "foo"),
        ("foo", "docker.io", "library/foo"),
        ("xn--n3h.com/foo", "xn--n3h.com", "foo"),
        ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
        ("docker.io/foo", "docker.io", "library/foo"),
        ("docker.io/library/foo", "docker.io", "library/foo"),
        ("docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
        // Beyond Docker's table: the cases kindscope lives on.
        (
            "localhost/kubernaut/gateway:debug",
            "localhost",
            "kubernaut/gateway",
        ),
        ("localhost:5001/app", "localhost:5001", "app"),
        ("localhost", "docker.io", "library/localhost"),
        ("index.docker.io/nginx", "docker.io", "library/nginx"),
        ("[::1]:5000/app:v1", "[::1]:5000", "app"),
        ("foo_bar.com/x", "", "foo_bar.com/x"),
    ];
    for (input, domain, path) in cases {
        let r = ok(input);
        assert_eq!(
            (r.domain.as_str(), r.path.as_str()),
            (domain, path),
            "{input}"
        );
    }
    let d = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
    let equivalent = [
        ("redis", "docker.io/library/redis".to_string()),
        ("redis:latest", "docker.io/library/redis:latest".into()),
        (
            "docker.io/library/redis:latest",
            "docker.io/library/redis:latest".into(),
        ),
        ("dmcgowan/myapp", "docker.io/dmcgowan/myapp".into()),
        (
            "dmcgowan/myapp:latest",
            "docker.io/dmcgowan/myapp:latest".into(),
        ),
        (
            "docker.io/mcgowan/myapp:latest",
            "docker.io/mcgowan/myapp:latest".into(),
        ),
        (
            "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9",
            "docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9"
                .into(),
        ),
        ("dbcc1", "docker.io/library/dbcc1".into()),
    ];
    for (input, full) in equivalent {
        assert_eq!(ok(input).full(), full, "{input}");
    }
    assert_eq!(
        ok(&format!("redis@{d}")).full(),
        format!("docker.io/library/redis@{d}")
    );
    assert_eq!(
        ok(&format!("dmcgowan/myapp@{d}")).full(),
        format!("docker.io/dmcgowan/myapp@{d}")
    );
}

/// `TestParseReferenceWithTagAndDigest` and the familiar forms `docker` prints.
#[test]
fn a_familiar_form_never_names_another_image() {
    // A Docker Hub repository whose first path component looks like a registry host.
    for (input, familiar) in [
        ("docker.io/ghcr.io/org/app", "docker.io/ghcr.io/org/app"),
        ("docker.io/localhost/app:1", "docker.io/localhost/app:1"),
        ("docker.io/reg:5000/app", "docker.io/reg:5000/app"),
        ("docker.io/org.name/app", "docker.io/org.name/app"),
        ("docker.io/org_name/app", "org_name/app"),
        ("docker.io/docker.io/lym/x", "docker.io/docker.io/lym/x"),
        ("docker.io/index.docker.io/x", "docker.io/index.docker.io/x"),
        (
            "library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "library/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
        ("docker.io/library/nginx", "nginx"),
        (
            "docker.io/kubernaut/gateway:debug",
            "kubernaut/gateway:debug",
        ),
    ] {
        let r = ImageRef::parse(input);
        // `reg:5000` is not a valid path component: nothing to show there.
        let Ok(r) = r else { continue };
        assert_eq!(r.familiar(), familiar, "{input}");
        assert_eq!(ImageRef::parse(&r.familiar()), Ok(r.clone()), "{input}");
    }
}

#[test]
fn familiar_forms_and_tag_plus_digest() {
    let short =
        "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
    let r = ok(short);
    assert_eq!(r.full(), format!("docker.io/library/{short}"));
    assert_eq!(r.familiar(), short);
    assert_eq!(r.tag.as_deref(), Some("latest"));
    assert!(r.digest.is_some());
    // The runtime resolves tag+digest by digest alone (ParseDockerRef).
    assert_eq!(
        r.lookup_name(),
        "docker.io/library/busybox@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
    );
    for (input, familiar) in [
        ("docker.io/library/nginx:1.27", "nginx:1.27"),
        (
            "docker.io/kubernaut/gateway:debug",
            "kubernaut/gateway:debug",
        ),
        (
            "localhost/kubernaut/gateway:debug",
            "localhost/kubernaut/gateway:debug",
        ),
        ("index.docker.io/library/nginx", "nginx"),
        ("docker.io/library/foo/bar:1", "library/foo/bar:1"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
        (
            "[::1]:5000/app@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "[::1]:5000/app@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ),
    ] {
        assert_eq!(ok(input).familiar(), familiar, "{input}");
    }
}

#[test]
fn error_messages_are_dockers() {
    assert_eq!(
        fails("UPPERCASE:latest"),
        "invalid reference format: repository name (library/UPPERCASE) must be lowercase"
    );
    assert_eq!(
        fails("kubernaut/Gateway:debug"),
        "invalid reference format: repository name (kubernaut/Gateway) must be lowercase"
    );
    assert_eq!(fails("ubuntu:."), "invalid reference format");
    assert_eq!(fails(""), "invalid reference format");
    assert_eq!(fails(" nginx"), "invalid reference format");
    assert_eq!(fails("nginx:1.27 "), "invalid reference format");
    assert_eq!(
        fails(&"a".repeat(256)),
        "repository name must not be more than 255 characters"
    );
    assert_eq!(
        fails(&format!("ubuntu@sha256:{}", "A".repeat(64))),
        "invalid checksum digest format"
    );
    assert_eq!(
        fails(&format!("ubuntu@sha256:{}", "a".repeat(32))),
        "invalid checksum digest length"
    );
    assert_eq!(
        fails(&format!("ubuntu@unknown:{}", "a".repeat(64))),
        "unsupported digest algorithm"
    );
    assert_eq!(
        fails(HEX64),
        format!("invalid repository name ({HEX64}), cannot specify 64-byte hexadecimal strings")
    );
    // Tags: 128 characters at most, not starting with '.' or '-'.
    ok(&format!("nginx:{}", "t".repeat(128)));
    assert_eq!(
        fails(&format!("nginx:{}", "t".repeat(129))),
        "invalid reference format"
    );
    assert_eq!(fails("nginx:-x"), "invalid reference format");
    ok("nginx:_x.Y-1");
}

/// The path alone is limited to 255 characters (distribution/reference v0.6), so a long
/// Docker Hub path is valid although `docker.io/` makes the whole name longer.
#[test]
fn length_limit_is_on_the_path() {
    let path = format!("{}a", "a/".repeat(127));
    assert_eq!(path.len(), 255);
    assert_eq!(ok(&path).path, path);
    let longer = format!("a/{path}");
    assert_eq!(
        fails(&longer),
        "repository name must not be more than 255 characters"
    );
    let hub = format!("library/{}", "b".repeat(247));
    assert_eq!(ok(&hub).path.len(), 255);
}

#[test]
fn kubelet_views_and_default_pull_policy() {
    assert_eq!(ok("nginx").kubelet_form(), "docker.io/library/nginx:latest");
    assert_eq!(ok("nginx").full(), "docker.io/library/nginx");
    assert_eq!(ok("nginx").effective_tag(), Some("latest"));
    assert_eq!(ok(&format!("nginx@sha256:{FF64}")).effective_tag(), None);
    // SetDefaults_Container: Always only when the parsed tag is "latest".
    for (image, policy) in [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("localhost/kubernaut/gateway", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("kubernaut/gateway:debug", "IfNotPresent"),
        ("nginx:Latest", "IfNotPresent"),
        (&format!("nginx@sha256:{FF64}"), "IfNotPresent"),
        (&format!("nginx:latest@sha256:{FF64}"), "Always"),
        ("Not A Reference", "IfNotPresent"),
        ("", "IfNotPresent"),
    ] {
        assert_eq!(default_pull_policy(image), policy, "{image:?}");
    }
    assert!(ok("localhost/x:1").is_local_only());
    assert!(!ok("localhost:5001/x:1").is_local_only());
    assert_eq!(ok("gateway:debug").familiar_path(), "gateway");
    assert_eq!(ok("localhost/gateway:debug").familiar_path(), "gateway");
    assert_eq!(ok("docker.io/library/a/b").familiar_path(), "library/a/b");
}
