package verify

// Super Board's file transcoding callback: RTC's lower-case envelope (appid
// and timestamp as JSON numbers in the example), one event.
// https://doc-zh.zego.im/super-board-server/file-callback (Chinese only)
//
//	field      documented type  rule
//	appid      Number           envelope
//	event      String           envelope: cvt_finish
//	nonce      String           envelope
//	timestamp  Number           envelope (unit unstated; the example's ten digits: read by magnitude)
//	signature  String           envelope
//	data       Object           {file_id String, task_id String, status Number (16 done,
//	                            32 failed, 64 cancelled; 128 to 32769 why the file failed)}
//
// Dedupe key: data's task_id (required: the callback is about it) and
// status. ZEGO retries twice, 15 s apart,
// only when it gets no response; the page asks for HTTPS.
const superBoardDoc = "https://doc-zh.zego.im/super-board-server/file-callback"

var superBoardProduct = &product{
	name: "super_board", envelope: lowerCaseFamily, doc: superBoardDoc,
	events: []*eventSpec{{
		name: "cvt_finish", meaning: "a whiteboard file finished transcoding (or failed)", doc: superBoardDoc,
		fields: []fieldRule{
			{name: "data", kind: ruleObject, required: true, max: maxJSONBytes, members: []fieldRule{
				{name: "file_id", kind: ruleID, max: maxIDBytes},
				{name: "task_id", kind: ruleID, required: true, max: maxIDBytes, key: true},
				{name: "status", kind: ruleEnum, key: true, names: []enumName{
					{16, "done"}, {32, "failed"}, {64, "cancelled"}, {128, "password_protected"}, {256, "too_large"},
					{512, "too_many_sheets"}, {1024, "empty"}, {2048, "open_failed"}, {4096, "type_unsupported"},
					{8192, "read_only"}, {16384, "download_failed"}, {32768, "unsupported_content"}, {32769, "invalid_format"},
				}},
			}},
		},
		example: []Field{{"data", `{"file_id":"ZYV-AFTrF6qnfFGW","status":16,"task_id":"9Y74yTsVd7e825-N"}`}},
	}},
}
