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
' Before RunPython, JxzpReady checks that the button can act on the active workbook (an open
' workbook, not in Protected View, writable when the button writes to it, one of ours). If not,
' it shows a message box saying what to do and Python is not started: xlwings' RunPython would
' otherwise stop in a VBA error (91) with no workbook or a workbook in Protected View.
'
' Keep this file ASCII-only: the VBA project stores source in code page 1252. The few Chinese
' texts VBA shows itself are written as UTF-16 code points (hex, space separated) and decoded
' by Zh; tests/test_addin_static.py decodes and checks them. Every other text the user sees
' (in Chinese) comes from Python. RunPython is the open-source xlwings call in the xlwings
' module of this add-in.

' the message box title
Private Const TITLE_TEXT As String = "7EE9 6548 81EA 8BC4"
' opened in Protected View: click Enable Editing first
Private Const MSG_PROTECTED_VIEW As String = "672C 5DE5 4F5C 7C3F 5728 201C 53D7 4FDD 62A4 7684 89C6 56FE 201D 4E2D 6253 5F00 FF0C 52A0 8F7D 9879 4E0D 80FD 8BFB 53D6 5B83 3002 8BF7 5148 70B9 51FB 7A97 53E3 4E0A 65B9 9EC4 8272 63D0 793A 680F 4E2D 7684 201C 542F 7528 7F16 8F91 201D FF0C 518D 70B9 6B64 6309 94AE 3002"
' no workbook is open: open a self-evaluation workbook (or the master) first
Private Const MSG_NO_WORKBOOK As String = "6CA1 6709 6253 5F00 7684 5DE5 4F5C 7C3F 3002 8BF7 5148 6253 5F00 4E00 5F20 81EA 8BC4 8868 FF08 6279 91CF 751F 6210 8BF7 6253 5F00 603B 8868 FF09 FF0C 518D 70B9 6B64 6309 94AE 3002"
' the workbook is read-only and this button writes to it: Save As to a local folder first
Private Const MSG_READ_ONLY As String = "672C 5DE5 4F5C 7C3F 662F 53EA 8BFB 7684 FF08 4ECE 90AE 4EF6 9644 4EF6 3001 538B 7F29 5305 6216 53EA 8BFB 6587 4EF6 5939 6253 5F00 FF0C 6216 6B63 88AB 522B 4EBA 6253 5F00 FF09 FF0C 800C 6B64 6309 94AE 8981 5199 5165 5DE5 4F5C 7C3F 3002 8BF7 5148 7528 201C 6587 4EF6 0020 002D 0020 53E6 5B58 4E3A 201D 4FDD 5B58 5230 672C 673A 6587 4EF6 5939 FF0C 6253 5F00 53E6 5B58 7684 6587 4EF6 540E 518D 70B9 6B64 6309 94AE 3002"
' not one of our workbooks (no template id property): open one made from our templates
Private Const MSG_NOT_OURS As String = "672C 5DE5 4F5C 7C3F 4E0D 662F 672C 7CFB 7EDF 751F 6210 7684 81EA 8BC4 8868 FF08 6CA1 6709 201C 6A21 677F 7F16 53F7 201D 6807 8BC6 FF09 FF0C 6B64 6309 94AE 65E0 6CD5 5904 7406 3002 8BF7 6253 5F00 7531 672C 7CFB 7EDF 6A21 677F 6216 201C 6279 91CF 751F 6210 201D 5F97 5230 7684 81EA 8BC4 8868 FF1B 5916 6765 7684 8868 683C 53EF 4EE5 7528 201C 6821 9A8C 201D 6309 94AE 68C0 67E5 3002"
' not a master workbook (no project/indicator sheets): open the master first
Private Const MSG_NOT_MASTER As String = "5F53 524D 5DE5 4F5C 7C3F 4E0D 662F 603B 8868 FF08 7F3A 5C11 201C 9879 76EE 201D 201C 6307 6807 201D 5DE5 4F5C 8868 FF09 3002 8BF7 5148 6253 5F00 603B 8868 FF08 53EF 7528 547D 4EE4 0020 006A 0078 007A 0070 0020 006D 0061 0073 0074 0065 0072 0020 006E 0065 0077 0020 751F 6210 7A7A 767D 603B 8868 FF09 FF0C 518D 70B9 201C 6279 91CF 751F 6210 201D 3002"
' the custom document property every template and filled workbook carries
Private Const PROP_TEMPLATE_ID As String = "6A21 677F 7F16 53F7"
' a sheet of the master workbook
Private Const SHEET_PROJECTS As String = "9879 76EE"
' a sheet of the master workbook
Private Const SHEET_INDICATORS As String = "6307 6807"

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
    If Not JxzpReady(tagName) Then Exit Sub
    RunPython "import jxzp_addin.registry as registry; registry.dispatch('" & tagName & "')"
End Sub

' The guard of every ribbon callback: True when the button may run; otherwise shows why not
' (and what to do) in a message box and returns False. Never raises.
Private Function JxzpReady(ByVal tagName As String) As Boolean
    Dim message As String

    message = GuardMessage(tagName)
    If Len(message) > 0 Then MsgBox message, vbExclamation, Zh(TITLE_TEXT)
    JxzpReady = (Len(message) = 0)
End Function

' "" when the button can act on the active workbook, else the message to show.
Private Function GuardMessage(ByVal tagName As String) As String
    Dim wb As Object

    If InProtectedView() Then
        GuardMessage = Zh(MSG_PROTECTED_VIEW)
        Exit Function
    End If
    On Error Resume Next
    Set wb = Application.ActiveWorkbook
    On Error GoTo 0
    If wb Is Nothing Then
        GuardMessage = Zh(MSG_NO_WORKBOOK)
        Exit Function
    End If
    Select Case tagName
        Case "recalculate", "check", "summary"          ' these write into the workbook
            If IsReadOnly(wb) Then
                GuardMessage = Zh(MSG_READ_ONLY)
                Exit Function
            End If
    End Select
    Select Case tagName
        Case "recalculate", "summary", "report"         ' these need one of our templates
            If Not HasProperty(wb, Zh(PROP_TEMPLATE_ID)) Then GuardMessage = Zh(MSG_NOT_OURS)
        Case "bulk"                                     ' this needs the master workbook
            If Not (HasSheet(wb, Zh(SHEET_PROJECTS)) And HasSheet(wb, Zh(SHEET_INDICATORS))) Then
                GuardMessage = Zh(MSG_NOT_MASTER)
            End If
    End Select
End Function

' A Protected View window is active (no such property before Excel 2010 or on a Mac: False).
Private Function InProtectedView() As Boolean
    Dim pv As Object

    On Error Resume Next
    Set pv = Application.ActiveProtectedViewWindow
    InProtectedView = Not (pv Is Nothing)
    On Error GoTo 0
End Function

Private Function IsReadOnly(ByVal wb As Object) As Boolean
    On Error Resume Next
    IsReadOnly = wb.ReadOnly
    On Error GoTo 0
End Function

' The workbook has a non-empty custom document property of that name.
Private Function HasProperty(ByVal wb As Object, ByVal propName As String) As Boolean
    Dim value As String

    On Error Resume Next
    value = CStr(wb.CustomDocumentProperties(propName).Value)
    HasProperty = (Err.Number = 0 And Len(value) > 0)
    On Error GoTo 0
End Function

Private Function HasSheet(ByVal wb As Object, ByVal sheetName As String) As Boolean
    Dim ws As Object

    On Error Resume Next
    Set ws = wb.Worksheets(sheetName)
    HasSheet = (Err.Number = 0)
    On Error GoTo 0
End Function

' "7EE9 6548" -> the text of those UTF-16 code points.
Private Function Zh(ByVal codes As String) As String
    Dim part As Variant

    For Each part In Split(codes, " ")
        Zh = Zh & ChrW(Val("&H" & part & "&"))
    Next part
End Function
