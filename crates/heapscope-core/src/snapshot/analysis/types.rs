//! The node and edge type ids of one snapshot that the phases branch on,
//! looked up once from its `meta`.

use crate::snapshot::Graph;

/// Type ids (`u32::MAX` for a type the snapshot does not have).
#[derive(Clone, Copy)]
pub(super) struct Types {
    pub(super) hidden: u32,
    pub(super) array: u32,
    pub(super) object: u32,
    pub(super) native: u32,
    pub(super) code: u32,
    pub(super) closure: u32,
    pub(super) regexp: u32,
    pub(super) synthetic: u32,
    pub(super) e_element: u32,
    pub(super) e_hidden: u32,
    pub(super) e_internal: u32,
    pub(super) e_shortcut: u32,
    pub(super) e_weak: u32,
    pub(super) e_property: u32,
}

impl Types {
    pub(super) fn of(g: &Graph) -> Types {
        let l = &g.layout;
        Types {
            hidden: l.node_type_id("hidden"),
            array: l.node_type_id("array"),
            object: l.node_type_id("object"),
            native: l.node_type_id("native"),
            code: l.node_type_id("code"),
            closure: l.node_type_id("closure"),
            regexp: l.node_type_id("regexp"),
            synthetic: l.node_type_id("synthetic"),
            e_element: l.edge_type_id("element"),
            e_hidden: l.edge_type_id("hidden"),
            e_internal: l.edge_type_id("internal"),
            e_shortcut: l.edge_type_id("shortcut"),
            e_weak: l.edge_type_id("weak"),
            e_property: l.edge_type_id("property"),
        }
    }
}
