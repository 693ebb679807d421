//! Templates: text with `{{key}}` placeholders, replaced by plain string
//! replacement. A placeholder without a value is a bug of the command, so
//! rendering refuses it rather than write `{{key}}` into a project.

/// `text` with each `{{key}}` of `values` replaced by its value.
///
/// # Panics
///
/// If a `{{identifier}}` placeholder is left that `values` has no value
/// for (the templates and their values are checked by the tests).
pub(crate) fn render(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (key, value) in values {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    if let Some(key) = placeholder(text, &out) {
        panic!("template placeholder `{{{{{key}}}}}` has no value");
    }
    out
}

/// The first `{{identifier}}` of `rendered` that is not in the values: one
/// that was in `template` already (a value may hold braces of its own).
fn placeholder(template: &str, rendered: &str) -> Option<String> {
    let mut rest = rendered;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        if let Some(end) = after.find("}}") {
            let key = &after[..end];
            if !key.is_empty()
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && template.contains(&format!("{{{{{key}}}}}"))
            {
                return Some(key.to_owned());
            }
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_occurrence() {
        assert_eq!(
            render("{{a}}-{{b}}-{{a}}", &[("a", "x"), ("b", "y")]),
            "x-y-x"
        );
    }

    #[test]
    fn leaves_other_braces_alone() {
        assert_eq!(
            render("format!(\"{x}\") {{a}}", &[("a", "1")]),
            "format!(\"{x}\") 1"
        );
    }

    #[test]
    #[should_panic(expected = "`{{b}}` has no value")]
    fn refuses_a_placeholder_without_value() {
        render("{{a}} {{b}}", &[("a", "1")]);
    }
}
