wpeinit
REM >>> lifeboat (added by lifeboat-media; a rebuild replaces this block)
if exist %SystemDrive%\Lifeboat\drivers\ for /r %SystemDrive%\Lifeboat\drivers %%d in (*.inf) do drvload "%%d"
%SystemDrive%\Lifeboat\lifeboat.exe auto --config %SystemDrive%\Lifeboat\config.yaml
REM <<< lifeboat
