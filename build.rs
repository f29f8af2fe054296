//! Windows builds get the icon and version resource (Explorer, taskbar, file properties).
//! Nothing happens for other targets.

fn main() {
    println!("cargo:rerun-if-changed=assets/icons/carecircle.ico");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let out = std::env::var("OUT_DIR").expect("cargo sets it");
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets it");
    let mut parts: Vec<u32> = version
        .split(['.', '-'])
        .filter_map(|p| p.parse().ok())
        .collect();
    parts.resize(4, 0);
    let v = parts
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let icon = format!("{dir}/assets/icons/carecircle.ico");
    let rc = format!(
        r#"1 ICON "{icon}"
1 VERSIONINFO
FILEVERSION {v}
PRODUCTVERSION {v}
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904b0"
    BEGIN
      VALUE "CompanyName", "CareCircle"
      VALUE "FileDescription", "CareCircle - elderly-care and nursery siting"
      VALUE "FileVersion", "{version}"
      VALUE "InternalName", "carecircle"
      VALUE "OriginalFilename", "carecircle.exe"
      VALUE "ProductName", "CareCircle"
      VALUE "ProductVersion", "{version}"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"#
    );
    let rc_path = format!("{out}/carecircle.rc");
    // A build script's scratch file in OUT_DIR: nothing of the user's to protect.
    #[allow(clippy::disallowed_methods)]
    std::fs::write(&rc_path, rc).expect("write the resource script");
    embed_resource::compile(&rc_path, embed_resource::NONE)
        .manifest_optional()
        .expect("compile the Windows resource (needs x86_64-w64-mingw32-windres)");
}
