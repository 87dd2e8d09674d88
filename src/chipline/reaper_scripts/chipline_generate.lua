-- chipline: generate and render tracks
--
-- A REAPER action installed by `chipline reaper install-actions`. Asks how many tracks and how
-- long, then runs the chipline command line twice: `chipline generate` writes new MIDI pieces
-- from a trained model into <output folder>/midi, and `chipline render` turns them into
-- game-ready audio in <output folder>. It shows what chipline printed and can insert the new
-- audio files into the project, one new track each. The answers are remembered (REAPER ext state
-- "chipline"). ExecProcess does not search PATH: give the full path to `chipline` if needed.

local SECTION = "chipline"
local TIMEOUT_MS = 60 * 60 * 1000
local QPM = 120
local STEPS_PER_BEAT = 4 -- chipline generate counts length in 16th steps
local AUDIO = { wav = true, ogg = true, mp3 = true }
local FIELDS = { "count", "seconds", "model", "out_dir", "chipline", "backend", "insert" }
local DEFAULTS = {
  count = "4",
  seconds = "60",
  model = "",
  out_dir = reaper.GetResourcePath() .. "/chipline/generated",
  chipline = "chipline",
  backend = "chip",
  insert = "y",
}
local CAPTIONS = "How many tracks:,How long (seconds):,Model (run dir or model dir):,"
  .. "Output folder:,chipline program:,Render with (chip/reaper):,Insert into project (y/n):,"
  .. "separator=\n,extrawidth=360"

local function remembered(key)
  local value = reaper.GetExtState(SECTION, key)
  if value == "" then return DEFAULTS[key] end
  return value
end

local function ask()
  local values = {}
  for i, key in ipairs(FIELDS) do values[i] = remembered(key) end
  local ok, text = reaper.GetUserInputs(
    "chipline: generate and render tracks", #FIELDS, CAPTIONS, table.concat(values, "\n")
  )
  if not ok then return nil end
  local answers, i = {}, 1
  for value in (text .. "\n"):gmatch("(.-)\n") do
    if FIELDS[i] then answers[FIELDS[i]] = value end
    i = i + 1
  end
  local count, seconds = tonumber(answers.count), tonumber(answers.seconds)
  if not count or count < 1 or count ~= math.floor(count) or not seconds or seconds <= 0 then
    reaper.ShowMessageBox("Give a whole number of tracks and a length in seconds.", "chipline", 0)
    return nil
  end
  if answers.model == "" then
    reaper.ShowMessageBox("Give the trained model to generate with (a run dir or model dir).",
      "chipline", 0)
    return nil
  end
  for _, key in ipairs(FIELDS) do reaper.SetExtState(SECTION, key, answers[key] or "", true) end
  answers.count, answers.steps = count, math.max(16, math.floor(seconds * QPM / 60 * STEPS_PER_BEAT))
  return answers
end

local function quote(arg)
  return '"' .. tostring(arg):gsub('"', '\\"') .. '"'
end

local function files_with(folder, extensions)
  local files = {}
  reaper.EnumerateFiles(folder, -1) -- forget REAPER's cached listing
  local i = 0
  while true do
    local name = reaper.EnumerateFiles(folder, i)
    if not name then return files end
    local ext = name:match("%.(%w+)$")
    if ext and extensions[ext:lower()] then files[folder .. "/" .. name] = true end
    i = i + 1
  end
end

local function new_files(before, after)
  local list = {}
  for path in pairs(after) do
    if not before[path] then list[#list + 1] = path end
  end
  table.sort(list)
  return list
end

-- One file per track: the same name in several formats gives the first of wav, ogg, mp3.
local function one_per_track(paths)
  local rank, best = { wav = 1, ogg = 2, mp3 = 3 }, {}
  for _, path in ipairs(paths) do
    local stem, ext = path:match("^(.*)%.(%w+)$")
    local current = best[stem]
    if not current or rank[ext:lower()] < rank[current:match("%.(%w+)$"):lower()] then
      best[stem] = path
    end
  end
  local list = {}
  for _, path in pairs(best) do list[#list + 1] = path end
  table.sort(list)
  return list
end

-- Runs a command line; returns exit code (number or nil) and output.
local function run(args)
  local quoted = {}
  for i, arg in ipairs(args) do quoted[i] = quote(arg) end
  local result = reaper.ExecProcess(table.concat(quoted, " "), TIMEOUT_MS)
  if not result then return nil, "could not run " .. args[1] end
  local code, output = result:match("^(%-?%d+)\n?(.*)$")
  return tonumber(code), output or result
end

local function main()
  local a = ask()
  if not a then return end
  local midi_dir = a.out_dir .. "/midi"
  reaper.RecursiveCreateDirectory(midi_dir, 0)
  local midi_before = files_with(midi_dir, { mid = true })
  local audio_before = files_with(a.out_dir, AUDIO)
  local code, output = run({ a.chipline, "generate", "--model", a.model, "--output-dir", midi_dir,
    "--num-outputs", a.count, "--num-steps", a.steps, "--qpm", QPM })
  local report = "chipline generate: " .. (code == 0 and "ok" or ("failed (" .. tostring(code) .. ")"))
    .. "\n" .. output
  local midi = new_files(midi_before, files_with(midi_dir, { mid = true }))
  if code == 0 and #midi > 0 then
    local args = { a.chipline, "render" }
    for _, path in ipairs(midi) do args[#args + 1] = path end
    for _, arg in ipairs({ "--out", a.out_dir, "--backend", a.backend }) do args[#args + 1] = arg end
    code, output = run(args)
    report = report .. "\nchipline render: "
      .. (code == 0 and "ok" or ("failed (" .. tostring(code) .. ")")) .. "\n" .. output
  end
  local audio = one_per_track(new_files(audio_before, files_with(a.out_dir, AUDIO)))
  reaper.ShowMessageBox(report .. "\n" .. #audio .. " new track(s) in " .. a.out_dir,
    "chipline", 0)
  if a.insert:lower():sub(1, 1) == "y" and #audio > 0 then
    reaper.Undo_BeginBlock()
    for _, path in ipairs(audio) do
      reaper.SetEditCurPos(0, false, false)
      reaper.InsertMedia(path, 1) -- 1: on a new track
    end
    reaper.Undo_EndBlock("chipline: insert generated tracks", -1)
  end
end

main()
