-- STAND-IN for REAPER's Lua ReaScript API, for tests only. It is not REAPER and renders no music.
--
-- It defines the handful of `reaper.*` functions chipline's actions call, records every call
-- (one tab-separated line each) in $STANDIN_LOG, then runs the script named by $STANDIN_SCRIPT
-- and its `reaper.defer` loop on a virtual clock until $STANDIN_STOP exists or $STANDIN_SECONDS
-- of real time pass. "Rendering" (action 42230) writes a placeholder WAV (a marker ramp, never
-- audio for a test to judge) where the open project's RENDER_FILE/RENDER_PATTERN point.
-- $STANDIN_MODE: "render" (default), "silent-render" (renders nothing), "hang-on-render".
-- Opening a project without `noprompt:` counts as a modal dialog: it is recorded as PROMPT.
-- $STANDIN_PROJECT: the project open at start. $STANDIN_INPUTS: what the user types into a
-- GetUserInputs dialog (fields separated by newlines; unset = the user cancels). ExecProcess
-- runs the command line with the shell and answers "<exit code>\n<output>" as REAPER does.

local log = assert(io.open(os.getenv("STANDIN_LOG"), "a"))
local resource = os.getenv("STANDIN_RESOURCE")
local mode = os.getenv("STANDIN_MODE") or "render"
local stop_file = os.getenv("STANDIN_STOP")
local limit_sec = tonumber(os.getenv("STANDIN_SECONDS") or "20")
local clock, deferred, at_exit, current, listings = 0, nil, nil, nil, {}
local settings, ext_state, proj_ext_state = {}, {}, {}

local function record(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring(select(i, ...)) end
  log:write(table.concat(parts, "\t"), "\n")
  log:flush()
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local text = f:read("a")
  f:close()
  return text
end

local function write_marker_wav(path, seconds, rate)
  local n = math.floor(seconds * rate + 0.5)
  local samples = {}
  for i = 0, n - 1 do samples[#samples + 1] = string.pack("<i2", (i % 1000) * 8) end
  local data = table.concat(samples)
  local header = "RIFF" .. string.pack("<I4", 36 + #data) .. "WAVEfmt "
    .. string.pack("<I4I2I2I4I4I2I2", 16, 1, 1, rate, rate * 2, 2, 16)
    .. "data" .. string.pack("<I4", #data)
  local f = assert(io.open(path, "wb"))
  f:write(header, data)
  f:close()
end

local function project_length(text)
  local longest = 0
  for value in text:gmatch("\n%s*LENGTH ([%d.e+-]+)") do
    longest = math.max(longest, tonumber(value))
  end
  return longest
end

local function open(path)
  current = path
  local text = read(path)
  settings = {
    RENDER_FILE = text:match('RENDER_FILE "([^"]*)"'),
    RENDER_PATTERN = text:match('RENDER_PATTERN "([^"]*)"'),
    rate = tonumber(text:match("RENDER_FMT %d+ %d+ (%d+)")) or 48000,
    tail_ms = tonumber(text:match("RENDER_RANGE %S+ %S+ %S+ %S+ (%d+)")) or 0,
  }
end

local function render_target()
  if not settings.RENDER_FILE or not settings.RENDER_PATTERN then return nil end
  local project_name = (current or ""):match("([^/]+)%.[Rr][Pp][Pp]$") or "untitled"
  local name = settings.RENDER_PATTERN:gsub("%$project", project_name)
  return settings.RENDER_FILE .. "/" .. name .. ".wav"
end

local function render()
  local text = read(current or "")
  local target, rate, tail_ms = render_target(), settings.rate, settings.tail_ms
  if mode == "hang-on-render" then
    record("HANG")
    while not exists(stop_file) do os.execute("sleep 0.05") end
    return
  end
  if mode == "silent-render" or not target then return end
  os.execute('mkdir -p "' .. settings.RENDER_FILE .. '"')
  if exists(target) then record("PROMPT", "overwrite " .. target) end
  write_marker_wav(target, project_length(text) + tail_ms / 1000, rate)
end

reaper = {}
function reaper.GetResourcePath() return resource end
function reaper.time_precise() return clock end
function reaper.set_action_options(flags) record("set_action_options", flags) end
function reaper.atexit(fn) at_exit = fn end
function reaper.defer(fn) deferred = fn end
function reaper.RecursiveCreateDirectory(path)
  os.execute('mkdir -p "' .. path .. '"')
  return 1
end
function reaper.EnumerateFiles(dir, index)
  if index < 0 then listings[dir] = nil return nil end
  if not listings[dir] then
    local names, pipe = {}, io.popen('ls -1 "' .. dir .. '" 2>/dev/null')
    for name in pipe:lines() do names[#names + 1] = name end
    pipe:close()
    listings[dir] = names
  end
  return listings[dir][index + 1]
end
function reaper.Main_openProject(path)
  record("Main_openProject", path)
  if not path:match("^noprompt:") then record("PROMPT", "save changes?") end
  open((path:gsub("^template:", ""):gsub("^noprompt:", "")))
end
function reaper.GetProjectLength() return project_length(read(current or "")) end
function reaper.Main_OnCommand(id, flag)
  record("Main_OnCommand", id, flag)
  if id == 42230 then render() end
end

function reaper.GetExtState(section, key) return ext_state[section .. "/" .. key] or "" end
function reaper.SetExtState(section, key, value, persist)
  record("SetExtState", section, key, value, persist)
  ext_state[section .. "/" .. key] = value
end
function reaper.GetProjExtState(_, section, key)
  local value = proj_ext_state[section .. "/" .. key] or ""
  return #value, value
end
function reaper.SetProjExtState(_, section, key, value)
  record("SetProjExtState", section, key, value)
  proj_ext_state[section .. "/" .. key] = value
  return 1
end
function reaper.GetUserInputs(title, num_inputs, captions, defaults)
  record("GetUserInputs", title, num_inputs, (defaults:gsub("\n", "|")))
  local answer = os.getenv("STANDIN_INPUTS")
  if not answer then return false, defaults end
  return true, answer
end
function reaper.ShowMessageBox(message, title, kind)
  record("ShowMessageBox", title, (message:gsub("\n", " | ")))
  return 1
end
function reaper.ExecProcess(command, timeout_ms)
  record("ExecProcess", command)
  local pipe = io.popen(command .. " 2>&1")
  local output = pipe:read("a")
  local _, _, code = pipe:close()
  return tostring(code) .. "\n" .. output
end
function reaper.GetSetProjectInfo_String(_, key, value, is_set)
  record("GetSetProjectInfo_String", key, value, is_set)
  if is_set then settings[key] = value return true, value end
  if key == "RENDER_TARGETS" then return true, render_target() or "" end
  return true, settings[key] or ""
end
function reaper.GetSetProjectInfo(_, key, value, is_set)
  record("GetSetProjectInfo", key, value, is_set)
  return value
end
function reaper.InsertMedia(path, how) record("InsertMedia", path, how) return 1 end
function reaper.SetEditCurPos() end
function reaper.Undo_BeginBlock() end
function reaper.Undo_EndBlock() end

if os.getenv("STANDIN_PROJECT") then open(os.getenv("STANDIN_PROJECT")) end
dofile(os.getenv("STANDIN_SCRIPT"))
local started = os.time()
while deferred and not exists(stop_file) and os.time() - started < limit_sec do
  local fn = deferred
  deferred = nil
  fn()
  clock = clock + 0.05
  os.execute("sleep 0.02")
end
if at_exit then at_exit() end
record("EXIT")
