//! `<namedElements>` references, checked before any is followed: a definition that refers to
//! itself (directly or through others) is an error naming it, and each definition's own size
//! is known, so that the walker can charge every use and keep the whole expansion within
//! [`crate::limits::XML_MAX_ELEMENTS`]. Without this, one self-referring `<rules>` expanded
//! 2^32 times, and a chain of definitions each naming the next twice does the same without
//! a loop.

use std::collections::HashMap;

use crate::limits;
use crate::xml::Element;

/// (element kind, name), both lower case: how references find their definition.
pub type NamedKey = (String, String);

pub fn key(kind: &str, name: &str) -> NamedKey {
    (kind.to_ascii_lowercase(), name.trim().to_ascii_lowercase())
}

/// `el` stands for a definition instead of having a body of its own (the walker's rule:
/// an `<environment>` without `<variable>`s, anything else without children).
fn reference_key(el: &Element) -> Option<NamedKey> {
    let name = el.attr("name")?;
    let has_body = if el.is("environment") {
        el.children.iter().any(|c| c.is("variable"))
    } else {
        !el.children.is_empty()
    };
    (!has_body).then(|| key(&el.name, name))
}

/// Elements of `el`'s subtree (itself included; a reference counts one) and the references
/// in it, in order.
fn scan(el: &Element, refs: &mut Vec<NamedKey>) -> usize {
    let mut n = 1;
    for c in &el.children {
        match reference_key(c) {
            Some(k) => {
                refs.push(k);
                n += 1;
            }
            None => n += scan(c, refs),
        }
    }
    n
}

/// A definition's name and line, for messages.
fn describe(el: &Element) -> String {
    format!(
        "<{} name=\"{}\"> (line {})",
        el.name,
        el.attr("name").unwrap_or("").trim(),
        el.line
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    Active,
    Done(usize),
}

/// Every definition's own element count (references in it count one each), or (line,
/// message) naming a definition that refers to itself.
pub fn own_sizes(
    named: &HashMap<NamedKey, &Element>,
) -> Result<HashMap<NamedKey, usize>, (usize, String)> {
    let mut marks: HashMap<NamedKey, Mark> = HashMap::new();
    let mut keys: Vec<&NamedKey> = named.keys().collect();
    keys.sort();
    for k in keys {
        size_of(k, named, &mut marks, &mut Vec::new())?;
    }
    Ok(marks
        .into_iter()
        .filter_map(|(k, m)| match m {
            Mark::Done(n) => Some((k, n)),
            Mark::Active => None,
        })
        .collect())
}

/// Depth-first over the reference graph (`path`: the definitions being sized, outermost
/// first), at most [`limits::RULE_MAX_REFERENCE_DEPTH`] deep.
fn size_of(
    k: &NamedKey,
    named: &HashMap<NamedKey, &Element>,
    marks: &mut HashMap<NamedKey, Mark>,
    path: &mut Vec<NamedKey>,
) -> Result<usize, (usize, String)> {
    let Some(def) = named.get(k) else {
        return Ok(1); // refers to nothing: the walker warns about it
    };
    match marks.get(k) {
        Some(Mark::Done(n)) => return Ok(*n),
        Some(Mark::Active) => {
            let through: Vec<String> = path
                .iter()
                .skip_while(|p| *p != k)
                .skip(1)
                .filter_map(|p| named.get(p).map(|d| describe(d)))
                .collect();
            let how = if through.is_empty() {
                String::new()
            } else {
                format!(" through {}", through.join(", "))
            };
            return Err((
                def.line,
                format!(
                    "{} refers to itself{how}: <namedElements> references cannot loop",
                    describe(def)
                ),
            ));
        }
        None => {}
    }
    if path.len() >= limits::RULE_MAX_REFERENCE_DEPTH {
        return Err((
            def.line,
            format!(
                "{} is reached through more than {} nested references",
                describe(def),
                limits::RULE_MAX_REFERENCE_DEPTH
            ),
        ));
    }
    marks.insert(k.clone(), Mark::Active);
    path.push(k.clone());
    let mut refs = Vec::new();
    let n = scan(def, &mut refs);
    for r in refs {
        size_of(&r, named, marks, path)?;
    }
    path.pop();
    marks.insert(k.clone(), Mark::Done(n));
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(xml: &str) -> Result<HashMap<NamedKey, usize>, (usize, String)> {
        let root = crate::xml::parse(xml).unwrap();
        let map: HashMap<NamedKey, &Element> = root
            .children
            .iter()
            .map(|d| (key(&d.name, d.attr("name").unwrap()), d))
            .collect();
        own_sizes(&map)
    }

    #[test]
    fn loops_are_found_and_sizes_multiply() {
        let e = named(r#"<n><rules name="A"><rules name="A"/></rules></n>"#).unwrap_err();
        assert!(
            e.1.contains(r#"<rules name="A"> (line 1) refers to itself:"#),
            "{e:?}"
        );
        let e = named(
            "<n>\n<rules name='A'><rules name='B'/></rules>\n<rules name='B'><x><rules name='a'/></x></rules></n>",
        )
        .unwrap_err();
        assert!(e.1.contains("through <rules name=\"B\"> (line 3)"), "{e:?}");
        // A chain where each names the next twice: no loop (the walker's budget stops it).
        let chain = |n: usize| -> String {
            let defs: String = (0..n)
                .map(|i| {
                    format!(
                        "<rules name='R{i}'><rules name='R{0}'/><rules name='R{0}'/></rules>",
                        i + 1
                    )
                })
                .collect();
            format!("<n>{defs}<rules name='R{n}'><x/></rules></n>")
        };
        let sizes = named(&chain(30)).unwrap();
        assert_eq!(sizes[&key("rules", "R30")], 2);
        assert_eq!(sizes[&key("rules", "R29")], 3);
        let e = named(&chain(40)).unwrap_err();
        assert!(e.1.contains("nested references"), "{e:?}");
        // An environment with variables is a body, not a reference.
        assert!(named(r#"<n><environment name="E"><environment name="E"><variable name="v"/></environment></environment></n>"#).is_ok());
    }
}
