package chat

import "testing"

// TestToJSON compares tojson with Python's json.dumps (the filter of
// transformers' chat templates) on the same value; the expected strings are
// json.dumps's output (Python 3, ensure_ascii=False unless stated).
func TestToJSON(t *testing.T) {
	value := `{"b": [1, 2.5, null, true], "a": {"x": "é\u2028😀\"\\\n\u0001<&>"}, "e": [], "f": {}}`
	for _, tc := range []struct{ call, want string }{
		{"tojson", "{\"b\": [1, 2.5, null, true], \"a\": {\"x\": \"é\u2028😀\\\"\\\\\\n\\u0001<&>\"}, \"e\": [], \"f\": {}}"},
		{"tojson(ensure_ascii=true, sort_keys=true)", "{\"a\": {\"x\": \"\\u00e9\\u2028\\ud83d\\ude00\\\"\\\\\\n\\u0001<&>\"}, \"b\": [1, 2.5, null, true], \"e\": [], \"f\": {}}"},
		{"tojson(indent=2)", "{\n  \"b\": [\n    1,\n    2.5,\n    null,\n    true\n  ],\n  \"a\": {\n    \"x\": \"é\u2028😀\\\"\\\\\\n\\u0001<&>\"\n  },\n  \"e\": [],\n  \"f\": {}\n}"},
		{"tojson(separators=(',', ':'))", "{\"b\":[1,2.5,null,true],\"a\":{\"x\":\"é\u2028😀\\\"\\\\\\n\\u0001<&>\"},\"e\":[],\"f\":{}}"},
	} {
		tmpl := mustTemplate(t, "{{ tools[0] | "+tc.call+" }}", SpecialTokens{})
		got, err := tmpl.RenderWith(nil, Options{Tools: []string{value}})
		if err != nil {
			t.Fatalf("%s: %v", tc.call, err)
		}
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.call, got, tc.want)
		}
	}
	for _, call := range []string{"tojson(indent=-1)", "tojson(indent=n)", "tojson(1)", "tojson(nosuch=1)", "tojson(separators=[1])"} {
		tmpl, err := New("{% set n = 100 %}{{ tools | "+call+" }}", SpecialTokens{})
		if err == nil {
			_, err = tmpl.RenderWith(nil, Options{Tools: []string{"1"}})
		}
		if err == nil {
			t.Errorf("%s: no error", call)
		}
	}
}
