Attribute VB_Name = "JxzpRibbon"
Option Explicit

' jxzp - Excel add-in for the self-evaluation workbooks (ji xiao zi ping).
'
' The one and only ribbon callback. Every button of the ribbon tab (customUI.xml) calls
' Dispatch; the button's tag names an entry point that Python looks up in its whitelist
' (jxzp_addin/registry.py). A tag that is not registered runs nothing.
'
' The tag is checked here to be 1-32 lower-case letters or underscores, so it is always a
' plain Python string literal; anything else is replaced by "invalid", which Python reports
' as an unknown button.
'
' Keep this file ASCII-only: the VBA project stores source in code page 1252. Every text the
' user sees (in Chinese) comes from Python. RunPython is the open-source xlwings call in the
' xlwings module of this add-in.

Public Sub Dispatch(control As IRibbonControl)
    Dim tagName As String
    Dim i As Long

    tagName = control.Tag
    If Len(tagName) = 0 Or Len(tagName) > 32 Then tagName = "invalid"
    For i = 1 To Len(tagName)
        If Not (Mid$(tagName, i, 1) Like "[a-z_]") Then
            tagName = "invalid"
            Exit For
        End If
    Next i
    RunPython "import jxzp_addin.registry as registry; registry.dispatch('" & tagName & "')"
End Sub
