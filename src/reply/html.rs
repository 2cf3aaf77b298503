//! HTML bodies to plain text, keeping only what the intern wrote.
//!
//! The DOM is walked (scraper/html5ever), not flattened: each block
//! boundary (div, p, li, br, tr…) becomes a line break so `<div>12</div>
//! <div>45</div>` stays two numbers, and the quote containers every client
//! wraps the original in are dropped. Some containers only mark where the
//! original starts (Outlook's `#divRplyFwdMsg`, its border-top divider,
//! Zimbra's `<hr id="zwchr">`): there, everything that follows is dropped.
//! The walk is iterative, so a deeply nested document cannot overflow the
//! stack.

use scraper::{Html, Node};

/// What to do with an element.
#[derive(PartialEq, Eq)]
enum Verdict {
    /// Keep it and its content.
    Keep,
    /// Drop it and its content (a quote container).
    Drop,
    /// Drop it and everything after it (the start of the original message).
    Stop,
}

/// Renders an HTML body as the text the intern wrote, one line per block.
pub(crate) fn to_text(html: &str) -> String {
    let document = Html::parse_document(html);
    let mut out = String::with_capacity(html.len() / 4);
    let root = document.tree.root();
    let mut node = root;
    // An explicit depth-first walk (enter, then leave) with no recursion.
    'walk: loop {
        let mut descend = false;
        match node.value() {
            Node::Text(text) => push_text(&mut out, text),
            Node::Element(element) => {
                let name = element.name();
                match verdict(element) {
                    Verdict::Stop => break 'walk,
                    Verdict::Drop => {}
                    Verdict::Keep if is_hidden(name) => {}
                    Verdict::Keep => {
                        if name == "br" || is_block(name) {
                            out.push('\n');
                        }
                        descend = true;
                    }
                }
            }
            _ => descend = true,
        }
        if descend {
            if let Some(child) = node.first_child() {
                node = child;
                continue;
            }
        }
        // Leave `node` and its finished ancestors until a sibling is found.
        loop {
            if let Node::Element(element) = node.value() {
                if descend && is_block(element.name()) {
                    out.push('\n');
                }
            }
            descend = true;
            if node.id() == root.id() {
                break 'walk;
            }
            if let Some(sibling) = node.next_sibling() {
                node = sibling;
                continue 'walk;
            }
            match node.parent() {
                Some(parent) => node = parent,
                None => break 'walk,
            }
        }
    }
    out
}

/// HTML collapses runs of white space into one space.
fn push_text(out: &mut String, text: &str) {
    let mut last_space = out.ends_with([' ', '\n']) || out.is_empty();
    for c in text.chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(c);
            last_space = false;
        }
    }
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "div"
            | "p"
            | "li"
            | "tr"
            | "ul"
            | "ol"
            | "table"
            | "blockquote"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "pre"
            | "hr"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "td"
            | "dd"
            | "dt"
            | "address"
            | "center"
    )
}

fn is_hidden(name: &str) -> bool {
    matches!(name, "head" | "style" | "script" | "title" | "template" | "noscript")
}

/// Recognises the quote containers of the common clients.
fn verdict(element: &scraper::node::Element) -> Verdict {
    let id = element.id().unwrap_or("");
    let has_class = |wanted: &str| element.classes().any(|c| c.eq_ignore_ascii_case(wanted));
    if ["divRplyFwdMsg", "appendonsend", "mail-editor-reference-message-container"].contains(&id)
        || (element.name() == "hr" && id == "zwchr")
        || has_class("zmail_extra")
    {
        return Verdict::Stop;
    }
    if id == "OLK_SRC_BODY_SECTION" {
        return Verdict::Stop;
    }
    if element.name() == "div" && is_outlook_divider(element.attr("style").unwrap_or("")) {
        return Verdict::Stop;
    }
    let quote_class = element.classes().any(|c| {
        let c = c.to_ascii_lowercase();
        c.starts_with("gmail_quote")
            || c == "moz-cite-prefix"
            || c == "yahoo_quoted"
            || c == "protonmail_quote"
            || c == "gmail_extra"
    });
    let cite = element.name() == "blockquote"
        && element.attr("type").is_some_and(|t| t.eq_ignore_ascii_case("cite"));
    if quote_class || cite {
        Verdict::Drop
    } else {
        Verdict::Keep
    }
}

/// Outlook separates the original with
/// `<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">`.
fn is_outlook_divider(style: &str) -> bool {
    let style = style.to_ascii_lowercase().replace(' ', "");
    style.contains("border-top:solid") && (style.contains("border:none") || style.contains("padding:3"))
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn block_boundaries_keep_numbers_apart() {
        let text = to_text("<div>12</div><div>45</div><p>78<br>90</p>");
        let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        assert_eq!(lines, ["12", "45", "78", "90"]);
    }

    #[test]
    fn quote_containers_are_dropped() {
        let html = r#"<div>1234</div><div class="gmail_quote">Le lun. a écrit : 5678</div>
            <blockquote type="cite">9999</blockquote><div>4321</div>
            <div id="divRplyFwdMsg">De : x</div><div>1111</div>"#;
        let text = to_text(html);
        assert!(text.contains("1234") && text.contains("4321"), "{text}");
        assert!(!text.contains("5678") && !text.contains("9999") && !text.contains("1111"), "{text}");
    }

    #[test]
    fn outlook_divider_and_zimbra_rule_stop_the_text() {
        let outlook = r#"<p>1234</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p>De : x</p></div><p>5678</p>"#;
        assert!(!to_text(outlook).contains("5678"));
        assert!(!to_text(r#"<div>1</div><hr id="zwchr"><div>5678</div>"#).contains("5678"));
    }
}
