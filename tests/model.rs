//! The YAML and directory forms of one tenant load into the same model.

use std::path::Path;

use claimlint::load::{discover::export_at, load_export};
use claimlint::source::SourceMap;
use claimlint::syntax::keywords::KeywordMap;

fn model_of(root: &str) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    let export = export_at(&root).expect("an export");
    let mut sources = SourceMap::default();
    let loaded = load_export(&export, &KeywordMap::default(), &mut sources, &root);
    assert!(loaded.errors.is_empty(), "{root:?}: {:?}", loaded.errors);
    let mut model = serde_json::to_value(&loaded.tenant).unwrap();
    model.as_object_mut().unwrap().remove("format");
    drop_script_paths(&mut model);
    model
}

/// Script paths are written relative to different folders in the two formats; the scripts
/// themselves are compared by their text.
fn drop_script_paths(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("customScripts");
            for item in map.values_mut() {
                drop_script_paths(item);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_script_paths),
        _ => {}
    }
}

#[test]
fn both_formats_of_the_example_load_into_the_same_model() {
    let yaml = model_of("examples/tenant-export-yaml");
    let directory = model_of("examples/tenant-export");
    assert_eq!(yaml["clients"].as_array().unwrap().len(), 3);
    assert_eq!(yaml["rules"].as_array().unwrap().len(), 3);
    assert!(
        yaml["rules"][0]["script"]["text"]
            .as_str()
            .unwrap()
            .contains("function")
    );
    if yaml != directory {
        let y = serde_json::to_string_pretty(&yaml).unwrap();
        let d = serde_json::to_string_pretty(&directory).unwrap();
        for (i, (a, b)) in y.lines().zip(d.lines()).enumerate() {
            assert_eq!(a, b, "first difference at line {i}");
        }
        panic!("models differ in length");
    }
}
