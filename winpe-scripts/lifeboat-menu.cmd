@echo off
REM Run from the WinPE prompt when the automatic capture was cancelled or failed.
:menu
echo.
echo   1  Capture again (lifeboat auto)
echo   2  Show the Windows installations found (lifeboat detect)
echo   3  Check this machine can capture (lifeboat selftest)
echo   4  Shut down
echo   5  Command prompt
set /p choice=Choice: 
if "%choice%"=="1" %SystemDrive%\Lifeboat\lifeboat.exe auto --config %SystemDrive%\Lifeboat\config.yaml
if "%choice%"=="2" %SystemDrive%\Lifeboat\lifeboat.exe detect
if "%choice%"=="3" %SystemDrive%\Lifeboat\lifeboat.exe selftest
if "%choice%"=="4" wpeutil shutdown
if "%choice%"=="5" goto :eof
goto menu
