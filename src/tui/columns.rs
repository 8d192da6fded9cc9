//! Column budgets: each column asks for the width its content needs (`want`) and the least
//! width at which it still means something (`min`: an image's registry, last path component
//! and tag). Columns get their `min` in priority order (one that does not fit is dropped), then
//! grow towards `want` in the same order — so the key columns are whole before any other
//! column grows.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    pub want: usize,
    pub min: usize,
    /// 0 is served first.
    pub priority: u8,
    /// Order of growing past the minimum (defaults to `priority`).
    pub grow: u8,
}

impl Col {
    pub fn new(want: usize, min: usize, priority: u8) -> Col {
        Col {
            want: want.max(min),
            min: min.max(1),
            priority,
            grow: priority,
        }
    }

    /// Grow in this order instead (a column may be needed early but only at its minimum).
    pub fn grow(self, grow: u8) -> Col {
        Col { grow, ..self }
    }
}

/// Widths (in the order of `cols`; 0 = not shown) that fit `width` with `gap` columns between
/// two shown columns.
pub fn allocate(width: usize, gap: usize, cols: &[Col]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cols.len()).collect();
    order.sort_by_key(|&i| (cols[i].priority, i));
    let mut widths = vec![0; cols.len()];
    let mut used = 0;
    let mut shown = 0;
    for &i in &order {
        let need = cols[i].min + if shown > 0 { gap } else { 0 };
        if used + need <= width {
            widths[i] = cols[i].min;
            used += need;
            shown += 1;
        } else if shown == 0 {
            // The most important column is never dropped: it is shortened instead.
            widths[i] = width;
            used = width;
            shown = 1;
        }
    }
    order.sort_by_key(|&i| (cols[i].grow, i));
    for &i in &order {
        if widths[i] == 0 {
            continue;
        }
        let extra = (cols[i].want - widths[i]).min(width - used);
        widths[i] += extra;
        used += extra;
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_columns_are_whole_before_others_grow() {
        let cols = [Col::new(30, 10, 1), Col::new(40, 25, 0), Col::new(20, 8, 2)];
        // Room for every minimum and more: the first priority grows first.
        assert_eq!(allocate(60, 1, &cols), vec![10, 40, 8]);
        assert_eq!(allocate(64, 1, &cols), vec![14, 40, 8]);
        // Everything fits.
        assert_eq!(allocate(200, 1, &cols), vec![30, 40, 20]);
    }

    #[test]
    fn a_column_without_room_for_its_minimum_is_dropped() {
        let cols = [Col::new(30, 10, 1), Col::new(40, 25, 0), Col::new(20, 8, 2)];
        assert_eq!(allocate(40, 1, &cols), vec![10, 29, 0]);
        assert_eq!(allocate(20, 1, &cols), vec![0, 20, 0]);
    }
}
