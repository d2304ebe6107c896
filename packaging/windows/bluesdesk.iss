; Inno Setup 6 script: wraps the PyInstaller one-folder bundle (dist\bluesdesk) in a per-user or
; per-machine installer. Build on Windows after `pyinstaller packaging\bluesdesk.spec`:
;   iscc /DAppVersion=0.1.0 packaging\windows\bluesdesk.iss
; Output: dist\bluesdesk-<version>-windows-x64-setup.exe. Signing-ready: define SignTool in the
; Inno Setup IDE or pass /Ssigntool="signtool.exe sign /fd sha256 /tr <timestamp-url> /td sha256 $f"
; together with /DSign=1, and the installer and uninstaller are both signed.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define AppName "bluesdesk"
#define AppExe "bluesdesk.exe"

[Setup]
AppId={{6C1B7E52-4D0F-4B1D-9E2A-2F3C8B5D9A10}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=The bluesdesk developers
AppPublisherURL=https://github.com/bluesdesk/bluesdesk
AppSupportURL=https://github.com/bluesdesk/bluesdesk/issues
AppUpdatesURL=https://github.com/bluesdesk/bluesdesk/releases
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user install without admin rights by default; the user may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SourceDir=..\..
OutputDir=dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x64-setup
SetupIconFile=resources\icons\bluesdesk.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
#ifdef Sign
SignTool=signtool
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole bundle; user data lives in %APPDATA%\bluesdesk and is never touched here.
Source: "dist\bluesdesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the installer put there: __pycache__-like leftovers inside the app folder.
Type: filesandordirs; Name: "{app}\_internal"
