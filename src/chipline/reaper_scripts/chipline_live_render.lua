-- chipline: render queued job (live)
--
-- A REAPER action installed by `chipline reaper install-actions`. Started once, it keeps running
-- (a deferred loop; run the action again to stop it) and renders the jobs chipline's
-- `reaper-live` back end drops into <resource folder>/chipline/queue:
--   <id>.job     lines `key=value`: project=<job .rpp>, output=<file the render must produce>
--   <id>.taken   the job, renamed when this script takes it
--   <id>.result  first line `ok` or `error`, then a message (written last, atomically)
--   alive        touched every poll, so chipline can tell the loop is running
-- Each job opens in a new project tab with `noprompt:`, renders with the project's own render
-- settings (action 42230, auto-closing the render window), and the tab is closed again without
-- a save prompt (replaced by an empty project first). Your open projects are not touched.

local QUEUE = reaper.GetResourcePath() .. "/chipline/queue"
local EMPTY_PROJECT = QUEUE .. "/empty.rpp"
local POLL_SEC = 0.25
local ACTION_NEW_TAB = 40859
local ACTION_CLOSE_TAB = 40860
local ACTION_RENDER = 42230 -- render project with the most recent settings, auto-close

local function write_file(path, text)
  local f = io.open(path, "wb")
  if not f then return false end
  f:write(text)
  f:close()
  return true
end

local function file_size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local size = f:seek("end")
  f:close()
  return size
end

local function read_job(path)
  local job = {}
  local f = io.open(path, "rb")
  if not f then return nil end
  for line in f:lines() do
    local key, value = line:match("^([%w_]+)=(.*)$")
    if key then job[key] = value:gsub("\r$", "") end
  end
  f:close()
  return job
end

local function write_result(id, status, message)
  local final = QUEUE .. "/" .. id .. ".result"
  local tmp = final .. ".tmp"
  write_file(tmp, status .. "\n" .. (message or "") .. "\n")
  os.remove(final)
  os.rename(tmp, final)
end

local function render(job)
  if not job.project or not job.output then
    return false, "job file lacks project= or output="
  end
  reaper.Main_OnCommand(ACTION_NEW_TAB, 0)
  reaper.Main_openProject("noprompt:" .. job.project)
  local ok, message = true, job.output
  if reaper.GetProjectLength(0) <= 0 then
    ok, message = false, "the project is empty (REAPER would show 'Nothing to render!')"
  else
    os.remove(job.output) -- an existing file would make REAPER ask before overwriting
    reaper.Main_OnCommand(ACTION_RENDER, 0)
    local size = file_size(job.output)
    if not size or size == 0 then
      ok, message = false, "REAPER finished rendering but " .. job.output .. " is missing or empty"
    end
  end
  -- Close the job's tab without a prompt: an unchanged empty project never asks to be saved.
  reaper.Main_openProject("noprompt:" .. EMPTY_PROJECT)
  reaper.Main_OnCommand(ACTION_CLOSE_TAB, 0)
  return ok, message
end

local function next_job()
  reaper.EnumerateFiles(QUEUE, -1) -- forget REAPER's cached listing
  local i = 0
  while true do
    local name = reaper.EnumerateFiles(QUEUE, i)
    if not name then return nil end
    local id = name:match("^(.+)%.job$")
    if id then return id end
    i = i + 1
  end
end

local function process(id)
  local taken = QUEUE .. "/" .. id .. ".taken"
  if not os.rename(QUEUE .. "/" .. id .. ".job", taken) then return end -- withdrawn meanwhile
  local job = read_job(taken)
  local called, ok, message = pcall(render, job or {})
  if not called then ok, message = false, "script error: " .. tostring(ok) end
  write_result(id, ok and "ok" or "error", message)
  os.remove(taken)
end

local last_poll = -math.huge
local function loop()
  local now = reaper.time_precise()
  if now - last_poll >= POLL_SEC then
    last_poll = now
    write_file(QUEUE .. "/alive", tostring(os.time()))
    local id = next_job()
    if id then process(id) end
  end
  reaper.defer(loop)
end

local function stop()
  os.remove(QUEUE .. "/alive")
  if reaper.set_action_options then reaper.set_action_options(8) end -- toggle state off
end

if reaper.set_action_options then
  reaper.set_action_options(1 | 4) -- running it again stops it; toggle state on
end
reaper.RecursiveCreateDirectory(QUEUE, 0)
write_file(EMPTY_PROJECT, "<REAPER_PROJECT 0.1 \"6.0\" 0\n>\n")
reaper.atexit(stop)
loop()
