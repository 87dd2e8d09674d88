-- chipline: generate and render tracks
--
-- A REAPER action installed by `chipline reaper install-actions`. Asks how many tracks and how
-- long, runs the chipline command line (generate new music, arrange and render it), shows what
-- it printed, and can insert the new audio files into the project, one new track each.
-- The answers, including the command itself, are remembered for next time (REAPER ext state
-- "chipline"). ExecProcess does not search PATH: give the full path to `chipline` if needed.

local SECTION = "chipline"
local TIMEOUT_MS = 60 * 60 * 1000
local AUDIO = { wav = true, ogg = true, mp3 = true }
local DEFAULTS = {
  count = "4",
  seconds = "60",
  out_dir = reaper.GetResourcePath() .. "/chipline/generated",
  command = "chipline make --num-tracks {count} --length-sec {seconds} --out \"{out}\"",
  insert = "y",
}
local FIELDS = { "count", "seconds", "out_dir", "command", "insert" }
local CAPTIONS = "How many tracks:,How long (seconds):,Output folder:,chipline command:,"
  .. "Insert into project (y/n):,separator=\n,extrawidth=360"

local function remembered(key)
  local value = reaper.GetExtState(SECTION, key)
  if value == "" then return DEFAULTS[key] end
  return value
end

local function ask()
  local values = {}
  for i, key in ipairs(FIELDS) do values[i] = remembered(key) end
  local ok, csv = reaper.GetUserInputs(
    "chipline: generate and render tracks", #FIELDS, CAPTIONS, table.concat(values, "\n")
  )
  if not ok then return nil end
  local answers, i = {}, 1
  for value in (csv .. "\n"):gmatch("(.-)\n") do
    answers[FIELDS[i]] = value
    i = i + 1
  end
  local count, seconds = tonumber(answers.count), tonumber(answers.seconds)
  if not count or count < 1 or count ~= math.floor(count) or not seconds or seconds <= 0 then
    reaper.ShowMessageBox("Give a whole number of tracks and a length in seconds.", "chipline", 0)
    return nil
  end
  for _, key in ipairs(FIELDS) do reaper.SetExtState(SECTION, key, answers[key], true) end
  return answers
end

local function audio_files(folder)
  local files = {}
  reaper.EnumerateFiles(folder, -1) -- forget REAPER's cached listing
  local i = 0
  while true do
    local name = reaper.EnumerateFiles(folder, i)
    if not name then return files end
    local ext = name:match("%.(%w+)$")
    if ext and AUDIO[ext:lower()] then files[folder .. "/" .. name] = true end
    i = i + 1
  end
end

local function main()
  local a = ask()
  if not a then return end
  reaper.RecursiveCreateDirectory(a.out_dir, 0)
  local before = audio_files(a.out_dir)
  local cmd = a.command:gsub("{count}", a.count):gsub("{seconds}", a.seconds)
  cmd = cmd:gsub("{out}", (a.out_dir:gsub("%%", "%%%%")))
  local result = reaper.ExecProcess(cmd, TIMEOUT_MS)
  if not result then
    reaper.ShowMessageBox("Could not run:\n" .. cmd .. "\n\nGive the full path to chipline.",
      "chipline", 0)
    return
  end
  local code, output = result:match("^(%-?%d+)\n?(.*)$")
  local new = {}
  for path in pairs(audio_files(a.out_dir)) do
    if not before[path] then new[#new + 1] = path end
  end
  table.sort(new)
  local summary = (code == "0" and "Done" or ("chipline exited with code " .. tostring(code)))
    .. "\n\n" .. (output or "") .. "\n" .. #new .. " new audio file(s) in " .. a.out_dir
  reaper.ShowMessageBox(summary, "chipline", 0)
  if a.insert:lower():sub(1, 1) == "y" and #new > 0 then
    reaper.Undo_BeginBlock()
    for _, path in ipairs(new) do
      reaper.SetEditCurPos(0, false, false)
      reaper.InsertMedia(path, 1) -- 1: on a new track
    end
    reaper.Undo_EndBlock("chipline: insert generated tracks", -1)
  end
end

main()
