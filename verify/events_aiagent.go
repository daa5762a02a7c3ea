package verify

// The AI Agent's and Cloud real-time ASR's callbacks: PascalCase envelopes
// (AppId, Event, Nonce, Timestamp, Signature), the timestamp in
// milliseconds (the pages say so and every example sends 13 digits), the
// event's own data in a nested Data object. Both sign as RTC does: the
// pages embed the same sha1 snippet and name Nonce and Timestamp as "used
// for signature calculation" (the mapping to the snippet's lower-case
// names is implied, not spelled out).

// aiAgentDoc lists every AI Agent callback on one page.
// https://www.zegocloud.com/docs/aiagent-server/callbacks/receiving-callback
// (Chinese: https://doc-zh.zego.im/aiagent-server/callbacks/receiving-callback)
//
//	field            documented type  req  rule
//	AppId            Number           yes  envelope
//	Event            String           yes  envelope
//	Nonce            String           yes  envelope
//	Timestamp        Number, ms       yes  envelope (13 digits, hashed as received)
//	Signature        String           yes  envelope
//	AgentInstanceId  String           yes  id, 256 bytes (the example's is 19 digits: kept as text)
//	AgentUserId      String           no   id, 256 bytes
//	AgentId          String           no   id, 256 bytes
//	Name             String           no   text, 1024 bytes
//	RoomId           String           no   id, 256 bytes
//	Sequence         Number           no   big id: its exact digits, as a string (the page's "ensuring orderliness but
//	                                       not necessarily continuity"; its values exceed 2^53)
//	Data             Object           no   object, per event (below)
//
// Dedupe key: AgentInstanceId and Sequence (with the event, as for every
// event): Sequence orders one instance's callbacks, so it tells one from
// the next. The page's ASRResult, LLMResult and Exception examples carry
// no Sequence: there the timestamp as received stands in, so distinct
// results are all delivered (a retry ZEGO re-signs is delivered again).
const aiAgentDoc = "https://www.zegocloud.com/docs/aiagent-server/callbacks/receiving-callback"

// aiAgentEvent is one AI Agent event: the common fields, then Data with
// the event's members.
func aiAgentEvent(name, meaning string, data []fieldRule, example []Field) *eventSpec {
	return &eventSpec{
		name: name, meaning: meaning, doc: aiAgentDoc,
		fields: []fieldRule{
			{name: "AgentInstanceId", kind: ruleID, required: true, max: maxIDBytes, key: true},
			{name: "AgentUserId", kind: ruleID, max: maxIDBytes},
			{name: "AgentId", kind: ruleID, max: maxIDBytes},
			{name: "Name", kind: ruleText, max: maxTextBytes},
			{name: "RoomId", kind: ruleID, max: maxIDBytes, role: roleRoomID},
			{name: "Sequence", kind: ruleBigID, key: true, orTimestamp: true},
			{name: "Data", kind: ruleObject, max: maxObjectBytes, members: data},
		},
		example: append([]Field{{"AgentInstanceId", "1912124734317838336"}, {"AgentUserId", "agent_user_1"}, {"AgentId", "agent_1"},
			{"RoomId", "room_1"}, {"Sequence", "1"}}, example...),
	}
}

// The members of Data, as the page's per-event tables give them.
var (
	roundMember = fieldRule{name: "Round", kind: ruleUint, max: maxExactInteger}
	userMember  = fieldRule{name: "UserId", kind: ruleID, max: maxIDBytes}
	textMember  = fieldRule{name: "Text", kind: ruleText, max: 64 << 10}
)

var aiAgentProduct = &product{
	name: "ai_agent", envelope: pascalCaseMillisFamily, doc: aiAgentDoc,
	events: []*eventSpec{
		//	Data: UserId String, Round Number, Text String (what the user said)
		aiAgentEvent("ASRResult", "speech recognition of what a user said", []fieldRule{userMember, roundMember, textMember},
			[]Field{{"Data", `{"UserId":"user_1","Round":650459806,"Text":"Hello"}`}}),
		//	Data: Round Number, Text String (the model's answer)
		aiAgentEvent("LLMResult", "the language model's answer", []fieldRule{roundMember, textMember},
			[]Field{{"Data", `{"Round":650459806,"Text":"Hello, how can I help?"}`}}),
		//	Data: Code Number, Message String, Round Number
		aiAgentEvent("Exception", "the agent instance hit an error", []fieldRule{
			{name: "Code", kind: ruleInt}, {name: "Message", kind: ruleText, max: maxTextBytes}, roundMember},
			[]Field{{"Data", `{"Code":2203,"Message":"LLM request failed","Round":650459806}`}}),
		//	Data: Round Number, Reason Number (1 to 4), PlayedText String
		aiAgentEvent("Interrupted", "the agent was interrupted while speaking", []fieldRule{
			roundMember, {name: "Reason", kind: ruleUint, max: 1<<32 - 1}, {name: "PlayedText", kind: ruleText, max: 64 << 10}},
			[]Field{{"Data", `{"Round":650459806,"Reason":1,"PlayedText":"Hello,"}`}}),
		//	Data: UserId String, Action String (SPEAK_BEGIN, SPEAK_END), Round Number
		aiAgentEvent("UserSpeakAction", "a user started or stopped speaking", []fieldRule{
			userMember, {name: "Action", kind: ruleID, max: 64}, roundMember},
			[]Field{{"Data", `{"UserId":"user_1","Action":"SPEAK_BEGIN","Round":650459806}`}}),
		//	Data: Status String (IDLE, LISTENING, THINKING, SPEAKING), Round Number
		aiAgentEvent("AgentInstanceStatus", "the agent instance changed state", []fieldRule{
			{name: "Status", kind: ruleID, max: 64}, roundMember},
			[]Field{{"Data", `{"Status":"SPEAKING","Round":650459806}`}}),
		//	Data: UserId String, Round Number, SampleRate Number, Format String ("pcm"), Audio String (base64)
		aiAgentEvent("UserAudioData", "a chunk of a user's audio", []fieldRule{
			userMember, roundMember, {name: "SampleRate", kind: ruleUint, max: 1<<32 - 1},
			{name: "Format", kind: ruleID, max: 64}, {name: "Audio", kind: ruleText, max: maxObjectBytes}},
			[]Field{{"Data", `{"UserId":"user_1","Round":650459806,"SampleRate":16000,"Format":"pcm","Audio":"AAAAAA=="}`}}),
		//	Data: CreatedTimestamp Number, ms
		aiAgentEvent("AgentInstanceCreated", "an agent instance was created", []fieldRule{
			{name: "CreatedTimestamp", kind: ruleUint, max: maxExactInteger}},
			[]Field{{"Data", `{"CreatedTimestamp":1745502313000}`}}),
		//	Data: Code Number (0, 1201 to 1206), DeletedTimestamp Number ms,
		//	      LatencyData Object {LLMTTFT, LLMTPS, TTSAudioFirstFrameTime, TotalCost: Number}
		aiAgentEvent("AgentInstanceDeleted", "an agent instance was deleted", []fieldRule{
			{name: "Code", kind: ruleInt}, {name: "DeletedTimestamp", kind: ruleUint, max: maxExactInteger},
			{name: "LatencyData", kind: ruleObject, max: maxJSONBytes, members: []fieldRule{
				{name: "LLMTTFT", kind: ruleNumber}, {name: "LLMTPS", kind: ruleNumber},
				{name: "TTSAudioFirstFrameTime", kind: ruleNumber}, {name: "TotalCost", kind: ruleNumber}}}},
			[]Field{{"Data", `{"Code":0,"DeletedTimestamp":1745502913000,"LatencyData":{"LLMTTFT":520,"LLMTPS":31.5,"TTSAudioFirstFrameTime":300,"TotalCost":1100}}`}}),
		//	Data: Round Number, MetaInfo Object (the model's metadata: its members kept as sent)
		aiAgentEvent("AgentInstanceMetaInfo", "the language model's metadata for a round", []fieldRule{
			roundMember, {name: "MetaInfo", kind: ruleObject, max: maxJSONBytes}},
			[]Field{{"Data", `{"Round":650459806,"MetaInfo":"{\"model\":\"example\"}"}`}}),
		//	Deprecated, yet AgentInstanceStatus's example still sends it:
		//	Data as AgentInstanceStatus's.
		aiAgentEvent("AgentSpeakAction", "the agent's speaking state (deprecated: AgentInstanceStatus)", []fieldRule{
			{name: "Status", kind: ruleID, max: 64}, {name: "Action", kind: ruleID, max: 64}, roundMember},
			[]Field{{"Data", `{"Action":"SPEAK_BEGIN","Round":650459806}`}}),
	},
}

// asrDoc lists every Cloud real-time ASR callback on one page.
// https://www.zegocloud.com/docs/cloud-realtime-asr/callbacks/receiving-callback
//
//	field      documented type  req  rule
//	AppId      Number           yes  envelope
//	Event      String           yes  envelope
//	Nonce      String           yes  envelope
//	Timestamp  Number, ms       yes  envelope
//	Signature  String           yes  envelope
//	TaskId     String           yes  id, 256 bytes (19 digits in the example: kept as text)
//	RoomId     String           no   id, 256 bytes
//	Data       Object           no   object, per event (below)
//
// Dedupe key: TaskId, the Data members that place a result (UserId,
// StreamId, Round) and the timestamp: the page gives no ID of one result,
// and one round may bring several.
const asrDoc = "https://www.zegocloud.com/docs/cloud-realtime-asr/callbacks/receiving-callback"

func asrEvent(name, meaning string, data []fieldRule, example []Field) *eventSpec {
	return &eventSpec{
		name: name, meaning: meaning, doc: asrDoc, keyTimestamp: true,
		fields: []fieldRule{
			{name: "TaskId", kind: ruleID, required: true, max: maxIDBytes, role: roleTaskID, key: true},
			{name: "RoomId", kind: ruleID, max: maxIDBytes, role: roleRoomID},
			{name: "Data", kind: ruleObject, max: maxObjectBytes, members: data},
		},
		example: append([]Field{{"TaskId", "1922184164614877184"}, {"RoomId", "111"}}, example...),
	}
}

// asrResultMembers are Data's members of a recognition or translation.
var asrResultMembers = []fieldRule{
	{name: "UserId", kind: ruleID, max: maxIDBytes, key: true},
	{name: "StreamId", kind: ruleID, max: maxIDBytes, key: true},
	{name: "Round", kind: ruleUint, max: maxExactInteger, key: true},
	textMember,
}

var asrProduct = &product{
	name: "asr", envelope: pascalCaseMillisFamily, doc: asrDoc,
	events: []*eventSpec{
		//	Data: UserId String, StreamId String, Round Int64, Text String
		asrEvent("ASRResult", "speech recognized in a stream", asrResultMembers,
			[]Field{{"Data", `{"Round":67202235,"Text":"Hello","UserId":"abcd123","StreamId":"stream_1"}`}}),
		//	Data: as ASRResult's, Text being the translation
		asrEvent("TranslationResult", "a translation of recognized speech", asrResultMembers,
			[]Field{{"Data", `{"Round":67202235,"Text":"你好","UserId":"abcd123","StreamId":"stream_1"}`}}),
		//	Data: Code Number, Message String
		asrEvent("Exception", "the recognition task hit an error", []fieldRule{
			{name: "Code", kind: ruleInt}, {name: "Message", kind: ruleText, max: maxTextBytes}},
			[]Field{{"Data", `{"Code":1001,"Message":"stream not found"}`}}),
	},
}
