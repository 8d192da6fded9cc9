//! The `kubectl` command line that applies the same guarded JSON patch as `f`: for a runbook, a
//! colleague's chat, or a terminal without kindscope. Cluster data is hostile input: every
//! word is quoted so that pasting the line runs exactly this one command.

use crate::fix::FixPlan;

/// `kubectl --context CTX -n NS patch deployment/NAME --type=json -p 'PATCH'`. The patch keeps
/// its `test` ops, so the API server refuses it (422) when the field changed meanwhile, exactly
/// as the dashboard's own request.
pub fn patch_command(context: &str, plan: &FixPlan) -> String {
    let resource = format!(
        "{}/{}",
        plan.target.kind.as_str().to_lowercase(),
        plan.target.name
    );
    let mut words = vec!["kubectl".to_string()];
    if !context.is_empty() {
        words.push("--context".into());
        words.push(shell_quote(context));
    }
    words.extend([
        "-n".into(),
        shell_quote(&plan.target.namespace),
        "patch".into(),
        shell_quote(&resource),
        "--type=json".into(),
        "-p".into(),
        shell_quote(&plan.patch.to_string()),
    ]);
    words.join(" ")
}

/// Whether a finding's command only checks (lists a node's images) rather than changes.
pub fn is_check_command(cmd: &str) -> bool {
    cmd.contains("crictl images")
}

/// One shell word (POSIX sh, bash, zsh). Plain words stay as they are; anything else goes in
/// single quotes (a `'` inside becomes `'\''`). A control character cannot be pasted safely
/// inside quotes (a newline would end the command), so a word holding one is written in
/// bash/zsh `$'…'` form with every such character as `\xNN` / `\uNNNN`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:/@=,+%".contains(c))
    {
        return s.to_string();
    }
    if !s.chars().any(crate::sanitize::is_unsafe) {
        return format!("'{}'", s.replace('\'', r"'\''"));
    }
    let mut out = String::from("$'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str(r"\'"),
            '\\' => out.push_str(r"\\"),
            c if crate::sanitize::is_unsafe(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if crate::sanitize::is_unsafe(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::Target;
    use serde_json::json;

    fn plan(namespace: &str, name: &str, value: &str) -> FixPlan {
        let path = "/spec/template/spec/containers/0/image";
        FixPlan {
            target: Target {
                kind: "Deployment".into(),
                namespace: namespace.into(),
                name: name.into(),
            },
            container: "gateway".into(),
            patch: json!([
                {"op": "test", "path": path, "value": "kubernaut/gateway:debug"},
                {"op": "replace", "path": path, "value": value}
            ]),
            undo: json!([]),
            image_before: "kubernaut/gateway:debug".into(),
            image_after: value.into(),
            pull_policy_before: None,
            pull_policy_after: None,
        }
    }

    #[test]
    fn the_command_carries_the_guarded_patch() {
        let cmd = patch_command(
            "kind-gateway-debug",
            &plan("default", "gateway", "localhost/kubernaut/gateway:debug"),
        );
        assert_eq!(
            cmd,
            "kubectl --context kind-gateway-debug -n default patch deployment/gateway --type=json -p \
             '[{\"op\":\"test\",\"path\":\"/spec/template/spec/containers/0/image\",\"value\":\"kubernaut/gateway:debug\"},\
             {\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/image\",\"value\":\"localhost/kubernaut/gateway:debug\"}]'"
        );
    }

    #[test]
    fn hostile_words_are_quoted_and_cannot_end_the_command() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a b;rm -rf ~"), "'a b;rm -rf ~'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("x\ny"), r"$'x\x0ay'");
        assert_eq!(
            shell_quote("\u{1b}]52;c;AAAA\u{7}"),
            r"$'\x1b]52;c;AAAA\x07'"
        );
        assert_eq!(shell_quote("a\u{202e}b'"), r"$'a\u202eb\''");
        // A value with a quote and a newline inside the JSON: JSON escapes the newline, the
        // quote is closed and reopened.
        let cmd = patch_command("ctx", &plan("default", "gw", "x'\ny"));
        assert!(cmd.contains(r#""value":"x'\''\ny""#), "{cmd}");
        assert!(!cmd.contains('\n'), "{cmd}");
    }
}
