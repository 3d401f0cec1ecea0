// Regenerates hf_cases.json: prompts rendered by Hugging Face's own Jinja for
// JavaScript, the implementation that made ../shared's chat_cases.json.
// Run it from a directory where the package is installed (Node resolves the
// import from the script's own directory):
//   mkdir /tmp/hfj && cd /tmp/hfj && npm install @huggingface/jinja@0.5.11
//   cp $REPO/runtime/chat/testdata/gen_hf_cases.mjs . &&
//   node gen_hf_cases.mjs $REPO/runtime/chat/testdata $REPO/../shared/models
import { Template } from "@huggingface/jinja";
import fs from "fs";

const testdata = process.argv[2];
const models = process.argv[3];
const templates = {
  llama3: JSON.parse(fs.readFileSync(models + "/hf-tokenizers/llama3/tokenizer_config.json")),
  qwen3: JSON.parse(fs.readFileSync(models + "/hf-tokenizers/qwen3/tokenizer_config.json")),
  features: {chat_template: fs.readFileSync(testdata + "/features.jinja", "utf8"), bos_token: "<s>", eos_token: "</s>"},
};

const sys = {role: "system", content: "You are a helpful assistant."};
const weather = {type: "function", function: {name: "get_weather", description: "Current weather in a city.",
  parameters: {type: "object", properties: {city: {type: "string", description: "City name, e.g. Paris"},
    unit: {type: "string", enum: ["celsius", "fahrenheit"]}}, required: ["city"]}}};
const noop = {type: "function", function: {name: "noop", description: "Does nothing: <ok> & 'fine'",
  parameters: {type: "object", properties: {}}}};
const toolTurns = [sys, {role: "user", content: "Weather in Paris?"},
  {role: "assistant", content: "", tool_calls: [{id: "call_1", type: "function",
    function: {name: "get_weather", arguments: {city: "Paris", unit: "celsius", days: 3, hourly: false, ratio: 0.5}}}]},
  {role: "tool", content: "{\"temp\": 21}"},
  {role: "tool", content: "sunny\nand warm"},
  {role: "assistant", content: "It is 21 °C and sunny.", tool_calls: [
    {type: "function", function: {name: "get_weather", arguments: {city: "Lyon"}}},
    {type: "function", function: {name: "noop", arguments: {}}}]},
  {role: "user", content: "<tool_response>x</tool_response>"}];

const cases = [
  {name: "user-no-generation-prompt", messages: [{role: "user", content: "Hello!"}], add_generation_prompt: false},
  {name: "ends-with-assistant", messages: [sys, {role: "user", content: "Hi"}, {role: "assistant", content: "Hello! How can I help?"}], add_generation_prompt: false},
  {name: "whitespace-and-unicode", messages: [{role: "user", content: "  \n  Grüße, 世界 🌍 \"quoted\" back\\slash\ttab  \n\n"},
    {role: "assistant", content: "\n\nOK\n"}, {role: "user", content: "{{ not a template }} {% if x %}"}], add_generation_prompt: true},
  {name: "empty-content", messages: [{role: "system", content: ""}, {role: "user", content: ""}], add_generation_prompt: true},
  {name: "system-later", messages: [{role: "user", content: "A"}, {role: "system", content: "Be brief."}, {role: "user", content: "B"}], add_generation_prompt: true},
  {name: "thinking-last-turn", messages: [{role: "user", content: "2+2?"}, {role: "assistant", content: "<think>\nAdd them.\n</think>\n\n4"}], add_generation_prompt: false},
  {name: "thinking-earlier-turn", messages: [{role: "user", content: "2+2?"}, {role: "assistant", content: "<think>\nAdd them.\n</think>\n\n4"},
    {role: "user", content: "And 3+3?"}], add_generation_prompt: true},
  {name: "reasoning-content-field", messages: [{role: "user", content: "Why?"}, {role: "assistant", content: "Because.", reasoning_content: "\nThink first.\n"}], add_generation_prompt: false},
  {name: "enable-thinking-false", messages: [{role: "user", content: "Quick answer"}], add_generation_prompt: true, vars: {enable_thinking: false}},
  {name: "tools", messages: toolTurns, tools: [weather], add_generation_prompt: true},
  {name: "tools-no-system", messages: [{role: "user", content: "Weather?"}], tools: [weather, noop], add_generation_prompt: true},
];

// Small templates for whitespace control: "-", and the trim_blocks and
// lstrip_blocks that Hugging Face turns on, next to adjacent tags.
const inline = [
  "{% for m in messages %}{{ m.content }}\n{% endfor %}",
  "a\n  {{ x }}{% if true %}b{% endif %}",
  "{%- if true -%}a: {{ x }}{%- endif -%}",
  "a  {{ x }}{%- if true %}b{% endif %}",
  "{% if true %}{{ x }}\n{% endif %}",
  "{% if true -%}{{ x }}  b{% endif %}",
  "  {% if true %}\n  {{ x }}\n  {% endif %}\n",
  "{{ x }}  {#- c #}  y",
  "{% if true %}{# c #}\nz{% endif %}",
  "{{ x }}{{ x }}\n{{ x -}}\n{{ x }} {# c #}{# d #}\n{%- for m in messages -%}\n  {{ m.role }}{% if loop.last %}!{% endif %}\n{% endfor %}",
  "<|s|>\n{% for m in messages %}\n    {% if m.role == 'user' %}\n{{ m.content }}{% else %}  [{{ m.content }}]\n    {% endif %}\n{% endfor %}\n{% if add_generation_prompt %}>{% endif %}",
];

const out = {cases: []};
for (const [i, source] of inline.entries()) {
  const messages = [{role: "user", content: "Hi"}, {role: "assistant", content: "Yo"}];
  const text = new Template(source).render({messages, add_generation_prompt: true, x: "X", bos_token: "", eos_token: "", tools: null});
  out.cases.push({template: "inline", name: "whitespace-" + i, source, messages, add_generation_prompt: true, vars: {x: "X"}, text});
}
for (const [name, cfg] of Object.entries(templates)) {
  const t = new Template(cfg.chat_template);
  for (const c of cases) {
    if (name === "features" && c.messages.some(m => m.role === "system" && m !== c.messages[0])) continue;
    const ctx = {messages: c.messages, add_generation_prompt: c.add_generation_prompt,
      bos_token: cfg.bos_token, eos_token: cfg.eos_token, tools: c.tools ?? null, ...(c.vars ?? {})};
    out.cases.push({template: name, ...c, text: t.render(ctx)});
  }
}
fs.writeFileSync(testdata + "/hf_cases.json", JSON.stringify(out, null, 1) + "\n");
