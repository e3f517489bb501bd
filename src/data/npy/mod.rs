//! The `.npy` format: header parsing ([`header`]), data decoding incl. float16 ([`decode`]),
//! the [`NpyArray`] type, reading with up-front size checks ([`read`]) and writing ([`write`]).
//!
//! Reading never trusts the header: the caller checks the claimed size against memory and the
//! bytes actually present before any data is read, and every failure is an error, not a panic.

mod array;
mod decode;
mod header;
mod read;
mod write;

pub use array::NpyArray;
pub(crate) use decode::{Values, Want};
pub(crate) use header::{fmt_shape, read_header, Header, Kind};
pub(crate) use read::read_npy_stream;
pub(crate) use read::{check_available, read_values, reorder};
pub use read::{read_npy, read_npy_bytes};
pub(crate) use write::write_npy_to;
pub use write::{write_npy_array_atomic, write_npy_atomic};

#[cfg(test)]
mod tests {
    use super::decode::*;
    use super::header::*;
    use super::write::*;

    #[test]
    fn zero_width_strings_are_refused() {
        assert!(parse_descr("<U0", "x.npy").is_err());
        assert!(parse_descr("<U1", "x.npy").is_ok());
    }

    #[test]
    fn parses_headers() {
        let h = parse_header_dict(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }",
            "x",
        )
        .unwrap();
        assert_eq!(h.shape, vec![3, 4]);
        assert!(!h.fortran);
        assert_eq!(h.descr.kind, Kind::Float);
        let h = parse_header_dict(
            "{'descr': '>i8', 'fortran_order': True, 'shape': (7,)}",
            "x",
        )
        .unwrap();
        assert_eq!(h.shape, vec![7]);
        assert!(h.fortran && h.descr.big_endian);
        let h = parse_header_dict("{'descr': '<U5', 'fortran_order': False, 'shape': ()}", "x")
            .unwrap();
        assert!(h.shape.is_empty());
        assert_eq!(h.descr.itemsize(), 20);
        let e = parse_header_dict(
            "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}",
            "x",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("structured"), "{e}");
        for bad in [
            "",
            "{",
            "{'descr': '<f4'}",
            "[1, 2]",
            "{'descr': '<f4', 'fortran_order': 1, 'shape': (1,)}",
        ] {
            assert!(parse_header_dict(bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn f16_values() {
        assert_eq!(f16_to_f64(0x3c00), 1.0);
        assert_eq!(f16_to_f64(0xc000), -2.0);
        assert_eq!(f16_to_f64(0x3800), 0.5);
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
        assert!(f16_to_f64(0x7c00).is_infinite());
        assert!(f16_to_f64(0x7e00).is_nan());
    }

    #[test]
    fn header_is_padded() {
        for shape in [vec![], vec![3], vec![360, 16, 4, 4]] {
            let h = header_bytes("<f8", &shape);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(*h.last().unwrap(), b'\n');
            let parsed = read_header(&mut &h[..], "t").unwrap();
            assert_eq!(parsed.shape, shape);
            assert_eq!(parsed.data_offset as usize, h.len());
        }
    }

    #[test]
    fn fortran_reorder() {
        // 2x3 matrix [[0,1,2],[3,4,5]] stored column-major.
        let f = vec![0, 3, 1, 4, 2, 5];
        assert_eq!(fortran_to_c(f, &[2, 3]), Some(vec![0, 1, 2, 3, 4, 5]));
        assert_eq!(fortran_to_c(vec![1, 2], &[2, 3]), None);
        // 3-D and 4-D against ndarray's own layout handling.
        use ndarray::ShapeBuilder;
        for shape in [
            vec![3, 4, 5],
            vec![70, 2, 3, 66],
            vec![1, 1, 1],
            vec![130, 67],
        ] {
            let n: usize = shape.iter().product();
            let c: Vec<usize> = (0..n).collect();
            let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), c.clone()).unwrap();
            let mut f = ndarray::ArrayD::zeros(ndarray::IxDyn(&shape).f());
            f.assign(&a);
            let f_data = f.as_slice_memory_order().unwrap().to_vec();
            assert_eq!(fortran_to_c(f_data, &shape), Some(c), "{shape:?}");
        }
        assert_eq!(fortran_to_c(Vec::<u8>::new(), &[0, 5]), Some(vec![]));
    }
}
