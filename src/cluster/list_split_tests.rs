use super::*;

/// (metadata, items) of a body fed in chunks of `size` bytes.
fn split(body: &str, size: usize) -> Result<(Vec<String>, Vec<String>), String> {
    let mut s = ListSplitter::default();
    let (mut meta, mut items) = (Vec::new(), Vec::new());
    for chunk in body.as_bytes().chunks(size.max(1)) {
        s.feed(chunk, &mut |p: Piece<'_>| {
            match p {
                Piece::Meta(b) => meta.push(String::from_utf8_lossy(b).into_owned()),
                Piece::Item(b) => items.push(String::from_utf8_lossy(b).into_owned()),
            }
            Ok::<(), ()>(())
        })
        .map_err(|e| format!("{e:?}"))?;
    }
    s.finish::<()>().map_err(|e| format!("{e:?}"))?;
    Ok((meta, items))
}

const LIST: &str = r#" {"kind":"PodList","apiVersion":"v1",
  "metadata":{"resourceVersion":"12","continue":"eyJ9"},
  "items":[{"metadata":{"name":"a","annotations":{"x":"}]{[\"\\"}},"spec":{}} ,
           {"metadata":{"name":"b"},"n":[1,2,{"c":[]}],"t":true},
           "text",  42 , null]
 } "#;

#[test]
fn every_chunking_yields_the_same_pieces() {
    let (meta, items) = split(LIST, LIST.len()).expect("whole");
    assert_eq!(meta, [r#"{"resourceVersion":"12","continue":"eyJ9"}"#]);
    assert_eq!(
        items,
        [
            r#"{"metadata":{"name":"a","annotations":{"x":"}]{[\"\\"}},"spec":{}}"#,
            r#"{"metadata":{"name":"b"},"n":[1,2,{"c":[]}],"t":true}"#,
            r#""text""#,
            "42",
            "null",
        ]
    );
    for size in 1..40 {
        assert_eq!(
            split(LIST, size).expect("chunked"),
            (meta.clone(), items.clone()),
            "chunks of {size}"
        );
    }
}

#[test]
fn items_decode_with_serde_and_the_buffer_holds_one_item_at_most() {
    let body = format!(
        r#"{{"metadata":{{}},"items":[{}]}}"#,
        (0..200)
            .map(|i| format!(r#"{{"metadata":{{"name":"p{i}"}}}}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut s = ListSplitter::default();
    let mut names = Vec::new();
    let mut biggest = 0;
    for chunk in body.as_bytes().chunks(7) {
        s.feed(chunk, &mut |p| {
            if let Piece::Item(b) = p {
                let pod: k8s_openapi::api::core::v1::Pod =
                    serde_json::from_slice(b).map_err(|e| e.to_string())?;
                names.push(pod.metadata.name.unwrap_or_default());
            }
            Ok::<(), String>(())
        })
        .expect("feed");
        biggest = biggest.max(s.buf.len());
    }
    s.finish::<()>().expect("complete");
    assert_eq!(names.len(), 200);
    assert_eq!(names[199], "p199");
    assert!(biggest < 40, "kept {biggest} bytes");
}

#[test]
fn metadata_after_items_and_empty_or_null_items_still_split() {
    let (meta, items) =
        split(r#"{"items":[{"a":1}],"metadata":{"continue":""}}"#, 3).expect("late metadata");
    assert_eq!((meta.len(), items), (1, vec![r#"{"a":1}"#.to_string()]));
    assert_eq!(
        split(r#"{"metadata":{},"items":[]}"#, 2).expect("empty"),
        (vec!["{}".to_string()], vec![])
    );
    assert_eq!(
        split(r#"{"metadata":{},"items":null}"#, 2).expect("null"),
        (vec!["{}".to_string()], vec![])
    );
}

#[test]
fn a_cut_or_broken_body_is_an_error() {
    assert!(split(r#"{"metadata":{},"items":[{"a":1}"#, 4).is_err());
    assert!(split(r#"{"metadata":{},"items":[{"a":1}]"#, 4).is_err());
    assert!(split(r#"["not a list"]"#, 4).is_err());
    assert!(split("", 4).is_err());
}

#[test]
fn the_callbacks_error_stops_the_split() {
    let mut s = ListSplitter::default();
    let out = s.feed(br#"{"items":[1,2]}"#, &mut |_| Err("stop"));
    assert!(matches!(out, Err(SplitError::Callback("stop"))));
}
