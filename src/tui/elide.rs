//! Shortening long names for narrow columns without hiding where names differ.
//!
//! Image names differ at both ends (`localhost/…` vs `docker.io/…`, `:debug` vs `:latest`), so
//! images keep their first path segment (the registry prefix) and their tag; the middle goes.

const ELLIPSIS: char = '…';

fn len(s: &str) -> usize {
    s.chars().count()
}

fn take_start(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn take_end(s: &str, n: usize) -> String {
    let total = len(s);
    s.chars().skip(total.saturating_sub(n)).collect()
}

/// `s` shortened to at most `width` characters by replacing its middle with `…`.
pub fn elide_middle(s: &str, width: usize) -> String {
    let n = len(s);
    if n <= width {
        return s.to_string();
    }
    match width {
        0 => String::new(),
        1 => ELLIPSIS.to_string(),
        _ => {
            let keep = width - 1;
            // Favour the end: pod hashes and tags are there.
            let head = keep / 2;
            let tail = keep - head;
            format!("{}{ELLIPSIS}{}", take_start(s, head), take_end(s, tail))
        }
    }
}

/// `s` in at most `width` characters, keeping its end: `…debug-worker2`.
pub fn elide_start(s: &str, width: usize) -> String {
    if len(s) <= width {
        return s.to_string();
    }
    match width {
        0 => String::new(),
        n => format!("{ELLIPSIS}{}", take_end(s, n - 1)),
    }
}

/// Split an image string into (name, suffix) where suffix is `:tag`, `@digest` or both.
fn split_suffix(image: &str) -> (&str, &str) {
    let name_end = match image.find('@') {
        Some(at) => at,
        None => image.len(),
    };
    let name = &image[..name_end];
    let last_slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
    match name[last_slash..].rfind(':') {
        Some(colon) => image.split_at(last_slash + colon),
        None => image.split_at(name_end),
    }
}

/// Shorten a long digest (`@sha256:0123…`) so the tag and name keep their room.
fn shorten_suffix(suffix: &str) -> String {
    match suffix.find('@') {
        Some(at) if len(&suffix[at..]) > 20 => {
            format!(
                "{}{}{ELLIPSIS}",
                &suffix[..at],
                take_start(&suffix[at..], 15)
            )
        }
        _ => suffix.to_string(),
    }
}

/// An image split for shortening: first path segment with its `/` (`localhost/`, `kubernaut/`),
/// the middle segments, the last segment, and `:tag`/`@digest` (a long digest shortened).
struct Parts<'a> {
    head: &'a str,
    middle: &'a str,
    last: &'a str,
    suffix: String,
}

fn parts(image: &str) -> Parts<'_> {
    let (name, suffix) = split_suffix(image);
    let (head, rest) = match name.find('/') {
        Some(i) => (&name[..=i], &name[i + 1..]),
        None => ("", name),
    };
    let (middle, last) = match rest.rfind('/') {
        Some(i) => (&rest[..=i], &rest[i + 1..]),
        None => ("", rest),
    };
    Parts {
        head,
        middle,
        last,
        suffix: shorten_suffix(suffix),
    }
}

/// Whether a first path segment names a registry (`localhost`, a host with a dot or a port),
/// as Docker's reference grammar decides; otherwise it is a Docker Hub namespace.
fn is_registry(head: &str) -> bool {
    let h = head.trim_end_matches('/');
    h == "localhost" || h.contains('.') || h.contains(':')
}

/// The width at which [`elide_image`] keeps the registry prefix (first segment), the last
/// path segment and the tag whole, dropping only the middle: `localhost/…/gateway:debug`.
/// A column narrower than this cuts into what tells images apart.
pub fn image_key_len(image: &str) -> usize {
    let p = parts(image);
    let mid = if p.middle.is_empty() { 0 } else { 2 };
    len(image).min(len(p.head) + mid + len(p.last) + len(&p.suffix))
}

/// An image name shortened to at most `width` characters. The registry prefix (first path
/// segment), the last segment and the tag stay whole as long as the width allows
/// (`localhost/…/gateway:debug`); a Docker Hub namespace (`kubernaut/`) goes before the last
/// segment is cut (`…/datastorage:debug`).
pub fn elide_image(image: &str, width: usize) -> String {
    if len(image) <= width {
        return image.to_string();
    }
    let Parts {
        head,
        middle,
        last,
        mut suffix,
    } = parts(image);
    // 1. Drop the middle path segments: `localhost/…/gateway:debug`.
    let mid = if middle.is_empty() {
        String::new()
    } else {
        format!("{ELLIPSIS}/")
    };
    let fixed = len(head) + len(&mid) + len(&suffix);
    if fixed + len(last) <= width {
        return format!("{head}{mid}{last}{suffix}");
    }
    // 1b. A Docker Hub namespace is not where names differ: `…/datastorage:debug`.
    if !head.is_empty() && !is_registry(head) && 2 + len(last) + len(&suffix) <= width {
        return format!("{ELLIPSIS}/{last}{suffix}");
    }
    // 2. Also shorten the last segment (where names differ most) in its middle; `…` alone
    //    stands for the dropped path when room is short.
    let mid = if middle.is_empty() { "" } else { "…" };
    // A long tag (`:v20250512-df8de77b`) gives up its middle before the name disappears.
    let want_last = len(last).min(8);
    let avail = width.saturating_sub(len(head) + len(mid));
    if len(&suffix) > 10 && avail < len(&suffix) + want_last {
        let keep = avail.saturating_sub(want_last).max(10);
        suffix = format!("{}{}", &suffix[..1], elide_middle(&suffix[1..], keep - 1));
    }
    let budget = width.saturating_sub(len(head) + len(mid) + len(&suffix));
    if budget >= 3 {
        return format!("{head}{mid}{}{suffix}", elide_middle(last, budget));
    }
    // 3. Shorten the prefix too, keeping a little of the last segment.
    let head_room = width.saturating_sub(len(mid) + len(&suffix) + 3);
    if head_room >= 3 && !head.is_empty() {
        return format!(
            "{}{mid}{}{suffix}",
            elide_middle(head, head_room),
            elide_middle(last, 3)
        );
    }
    // 4. Keep the prefix and the suffix, shortening the prefix if need be.
    let prefix_room = width.saturating_sub(len(&suffix) + 1);
    if prefix_room >= 2 && !head.is_empty() {
        return format!("{}{ELLIPSIS}{suffix}", take_start(head, prefix_room));
    }
    elide_middle(image, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_untouched() {
        assert_eq!(elide_image("nginx:1.27", 20), "nginx:1.27");
        assert_eq!(elide_middle("abc", 3), "abc");
    }

    #[test]
    fn image_keeps_registry_prefix_and_tag() {
        let s = "localhost/kubernaut/gateway:debug";
        assert_eq!(elide_image(s, 26), "localhost/…/gateway:debug");
        assert_eq!(len(&elide_image(s, 26)), 25);
        let e = elide_image(s, 20);
        assert!(e.starts_with("localhost/"), "{e}");
        assert!(e.ends_with(":debug"), "{e}");
        assert!(len(&e) <= 20, "{e}");
    }

    #[test]
    fn similar_names_stay_apart() {
        for w in 14..34 {
            let a = elide_image("localhost/kubernaut/datastorage:debug", w);
            let b = elide_image("localhost/kubernaut/gateway:debug", w);
            assert_ne!(a, b, "width {w}");
            assert!(a.ends_with(":debug") && b.ends_with(":debug"), "{a} {b}");
            if w >= 20 {
                assert!(a.starts_with("localhost/"), "{a}");
            }
        }
    }

    #[test]
    fn very_narrow_keeps_tag_first() {
        let s = "localhost/kubernaut/datastorage:debug";
        for w in 9..s.len() {
            let e = elide_image(s, w);
            assert!(len(&e) <= w, "width {w}: {e}");
            assert!(e.ends_with(":debug"), "width {w}: {e}");
            assert!(e.starts_with('l'), "width {w}: {e}");
        }
    }

    #[test]
    fn a_hub_namespace_goes_before_the_last_segment_is_cut() {
        let s = "kubernaut/datastorage:debug";
        assert_eq!(image_key_len(s), s.len());
        assert_eq!(elide_image(s, 20), "…/datastorage:debug");
        assert_eq!(
            image_key_len("localhost/kubernaut/gateway:debug"),
            "localhost/…/gateway:debug".chars().count()
        );
        // A registry is kept instead.
        let e = elide_image("localhost/gateway:debug", 20);
        assert!(e.starts_with("localhost/"), "{e}");
    }

    #[test]
    fn registry_port_is_not_a_tag() {
        let s = "registry.example.com:5000/team/project/service";
        let e = elide_image(s, 30);
        assert!(e.starts_with("registry.example.com:5000/"), "{e}");
        assert!(len(&e) <= 30, "{e}");
        assert!(!e.ends_with(":5000"), "{e}");
        assert_eq!(elide_image(s, 36), "registry.example.com:5000/…/service");
    }

    #[test]
    fn long_tags_leave_room_for_the_name() {
        let e = elide_image("docker.io/kindest/kindnetd:v20250512-df8de77b", 30);
        assert!(e.contains("kindnetd"), "{e}");
        assert!(e.starts_with("docker.io/"), "{e}");
        assert!(len(&e) <= 30, "{e}");
    }

    #[test]
    fn digests_are_shortened() {
        let s = "docker.io/library/nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let e = elide_image(s, 40);
        assert!(len(&e) <= 40, "{e}");
        assert!(e.starts_with("docker.io/"), "{e}");
        assert!(e.contains("@sha256:"), "{e}");
    }

    #[test]
    fn node_names_keep_their_end() {
        assert_eq!(elide_start("nodes-worker2", 20), "nodes-worker2");
        assert_eq!(elide_start("gateway-debug-worker", 10), "…ug-worker");
        assert_eq!(elide_start("abc", 0), "");
    }

    #[test]
    fn middle_elision_keeps_both_ends() {
        assert_eq!(
            elide_middle("datastorage-6d4c9b7f8-abcde", 11),
            "datas…abcde"
        );
        assert_eq!(elide_middle("abcdef", 1), "…");
        assert_eq!(elide_middle("abcdef", 0), "");
    }
}
