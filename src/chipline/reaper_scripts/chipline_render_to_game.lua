-- chipline: render this project to the game folder
--
-- A REAPER action installed by `chipline reaper install-actions`. Renders the current project
-- (entire project, master mix, in the project's own render format) into the game's audio folder,
-- named after the project. The folder is asked for once and remembered in the project.
-- Existing files of the same name are replaced (deleted first, so REAPER does not prompt).

local SECTION = "chipline"
local KEY = "game_folder"
local ACTION_RENDER = 42230 -- render project with the most recent settings, auto-close

local function ask_folder(current)
  local ok, answer = reaper.GetUserInputs(
    "chipline: render to the game folder", 1, "Game audio folder:,extrawidth=320", current or ""
  )
  if not ok or answer == "" then return nil end
  return answer
end

local function split_targets(list)
  local targets = {}
  for path in string.gmatch(list or "", "[^;]+") do targets[#targets + 1] = path end
  return targets
end

local function main()
  local proj = 0
  if reaper.GetProjectLength(proj) <= 0 then
    reaper.ShowMessageBox("The project is empty: nothing to render.", "chipline", 0)
    return
  end
  local _, folder = reaper.GetProjExtState(proj, SECTION, KEY)
  if folder == "" then folder = reaper.GetExtState(SECTION, KEY) end
  folder = ask_folder(folder)
  if not folder then return end
  reaper.SetProjExtState(proj, SECTION, KEY, folder)
  reaper.SetExtState(SECTION, KEY, folder, true)
  reaper.RecursiveCreateDirectory(folder, 0)

  reaper.GetSetProjectInfo_String(proj, "RENDER_FILE", folder, true)
  reaper.GetSetProjectInfo_String(proj, "RENDER_PATTERN", "$project", true)
  reaper.GetSetProjectInfo(proj, "RENDER_BOUNDSFLAG", 1, true) -- entire project
  reaper.GetSetProjectInfo(proj, "RENDER_SETTINGS", 0, true) -- master mix
  reaper.GetSetProjectInfo(proj, "RENDER_ADDTOPROJ", 0, true)

  local _, list = reaper.GetSetProjectInfo_String(proj, "RENDER_TARGETS", "", false)
  local targets = split_targets(list)
  for _, path in ipairs(targets) do os.remove(path) end
  reaper.Main_OnCommand(ACTION_RENDER, 0)

  local lines, missing = {}, 0
  for _, path in ipairs(targets) do
    local f = io.open(path, "rb")
    if f then
      lines[#lines + 1] = path
      f:close()
    else
      lines[#lines + 1] = "MISSING: " .. path
      missing = missing + 1
    end
  end
  local title = missing == 0 and "chipline: rendered" or "chipline: render incomplete"
  reaper.ShowMessageBox(table.concat(lines, "\n"), title, 0)
end

main()
