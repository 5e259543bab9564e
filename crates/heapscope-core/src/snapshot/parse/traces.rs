//! The `trace_tree` section: V8's tree of allocation stacks, written when
//! allocation tracking was on (DevTools' "Allocation instrumentation on
//! timeline"). Each tree node is `id, function_info_index, count, size,
//! [children…]` (the order `meta.trace_node_fields` gives), nested: the
//! root's children are the outermost frames, a leaf the allocating function.

use std::io::Read;

use super::{Lexer, ParseError, Progress};

/// One node of the tree as read: its id, its function (an index into the
/// `trace_function_infos` rows), and its parent's id (0 for the root).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceTreeNode {
    pub id: u32,
    pub function: u32,
    pub parent: u32,
}

/// Where `id` and `function_info_index` are among a node's fields, and how
/// many come before `children`, which must be the last.
pub(super) struct TreeFields {
    id: usize,
    function: usize,
    children: usize,
}

impl TreeFields {
    /// `None` when `meta` does not describe trace nodes: then only an empty
    /// tree reads (V8 writes `[]` without allocation tracking).
    pub(super) fn of(fields: &[String]) -> Option<TreeFields> {
        let find = |name: &str| fields.iter().position(|f| f == name);
        match (find("id"), find("function_info_index"), find("children")) {
            (Some(id), Some(function), Some(children)) if children + 1 == fields.len() => {
                Some(TreeFields { id, function, children })
            }
            _ => None,
        }
    }
}

/// A tree whose nodes `meta` does not describe.
fn undescribed(header: u64) -> ParseError {
    ParseError::Meta {
        offset: header,
        reason:
            "the trace tree has nodes, but meta's trace_node_fields lack id, function_info_index or, last, children"
                .into(),
    }
}

/// Reads the nested array into `out`, parents before their children.
/// `header`: where the header that should describe the nodes starts.
pub(super) fn read_tree<R: Read>(
    lx: &mut Lexer<R>,
    fields: Option<&TreeFields>,
    header: u64,
    out: &mut Vec<TraceTreeNode>,
    progress: Progress,
) -> Result<(), ParseError> {
    lx.expect(b'[', "'[' (the trace tree)", progress)?;
    let Some(fields) = fields else {
        return match lx.skip_ws(progress)? {
            Some(b']') => {
                lx.bump();
                Ok(())
            }
            _ => Err(undescribed(header)),
        };
    };
    // The ids of the nodes whose children are being read (0: the top level).
    let mut open: Vec<u32> = vec![0];
    // The node being read: the values of its fields so far.
    let mut values: Vec<u32> = Vec::with_capacity(fields.children);
    // After '[' or ',': a value must come (or, right after '[', the end).
    let mut need_value = true;
    let mut just_opened = true;
    loop {
        let next = lx.skip_ws(progress)?;
        match next {
            Some(b'0'..=b'9') if need_value && values.len() < fields.children => {
                values.push(read_number(lx, progress)?);
                need_value = false;
                just_opened = false;
            }
            Some(b',') if !need_value => {
                lx.bump();
                need_value = true;
            }
            Some(b'[') if need_value && values.len() == fields.children => {
                lx.bump();
                let parent = *open.last().expect("an open level");
                let node = TraceTreeNode { id: values[fields.id], function: values[fields.function], parent };
                out.push(node);
                open.push(node.id);
                values.clear();
                just_opened = true;
            }
            Some(b']') if values.is_empty() && (!need_value || just_opened) => {
                lx.bump();
                open.pop();
                if open.is_empty() {
                    return Ok(());
                }
                // The node whose children these were is complete.
                need_value = false;
                just_opened = false;
            }
            found => {
                let expected = match (values.len(), need_value) {
                    (0, true) => "a trace node or ']'",
                    (0, false) => "',' or ']' in the trace tree",
                    (n, true) if n == fields.children => "'[' (a trace node's children)",
                    (_, true) => "an unsigned integer in the trace tree",
                    (_, false) => "',' in a trace node",
                };
                return Err(lx.syntax(expected, found));
            }
        }
    }
}

fn read_number<R: Read>(lx: &mut Lexer<R>, progress: Progress) -> Result<u32, ParseError> {
    let start = lx.offset();
    let mut value: u64 = 0;
    while let Some(b @ b'0'..=b'9') = lx.peek(progress)? {
        value = value * 10 + (b - b'0') as u64;
        if value > u32::MAX as u64 {
            return Err(ParseError::Number { offset: start, reason: "larger than 4294967295" });
        }
        lx.bump();
    }
    if let Some(b'.' | b'e' | b'E') = lx.peek(progress)? {
        return Err(ParseError::Number { offset: start, reason: "expected an unsigned integer" });
    }
    Ok(value as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<TraceTreeNode>, ParseError> {
        let fields: Vec<String> = ["id", "function_info_index", "count", "size", "children"].map(String::from).into();
        let fields = TreeFields::of(&fields);
        let mut lx = Lexer::new(text.as_bytes());
        let mut out = Vec::new();
        read_tree(&mut lx, fields.as_ref(), 0, &mut out, &mut |_| {})?;
        Ok(out)
    }

    fn node(id: u32, function: u32, parent: u32) -> TraceTreeNode {
        TraceTreeNode { id, function, parent }
    }

    #[test]
    fn reads_nested_nodes_with_their_parents() {
        // V8's own shape: a root, a chain, siblings, empty children lists.
        let tree = read("[1,0,0,0,[2,6,0,0,[3,5,37,7600,[]],4,4,2,104,[5,3,3,216,[ ]]] ]").expect("a tree");
        assert_eq!(tree, [node(1, 0, 0), node(2, 6, 1), node(3, 5, 2), node(4, 4, 1), node(5, 3, 4)]);
        assert_eq!(read("[]").expect("empty"), []);
    }

    #[test]
    fn a_malformed_tree_names_the_byte() {
        for (text, offset) in [
            ("[1,0,0,0]", 8),                // no children list
            ("[1,0,0,[]]", 7),               // a field missing
            ("[1,0,0,0,[],]", 12),           // a trailing comma
            ("[1,0,0,0,[]", 11),             // cut short
            ("[1,0,0,0,[] 2,0,0,0,[]]", 12), // no comma between nodes
            ("[1,0,0,1.5,[]]", 7),           // not an integer
        ] {
            let e = read(text).expect_err(text);
            assert_eq!(e.offset(), Some(offset), "{text}: {e}");
        }
        // Without trace_node_fields in meta, only an empty tree reads.
        let undescribed =
            |text: &str| read_tree(&mut Lexer::new(text.as_bytes()), None, 7, &mut Vec::new(), &mut |_| {});
        assert!(undescribed(" [ ] ").is_ok());
        let e = undescribed("[1,0,0,0,[]]").expect_err("nodes meta does not describe");
        assert_eq!(e.offset(), Some(7), "{e}");
    }
}
