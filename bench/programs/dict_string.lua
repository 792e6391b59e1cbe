local function run()
  local words = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"}
  local counts, n = {}, 0
  for i = 0, 199999 do
    local key = words[i % 8 + 1] .. "-" .. tostring(i % 1000)
    if counts[key] == nil then n = n + 1 end
    counts[key] = (counts[key] or 0) + 1
  end
  local parts = {}
  for k in pairs(counts) do parts[#parts + 1] = k end
  local text = table.concat(parts, " ")
  local total = 0
  for part in string.gmatch(text, "[^ ]+") do total = total + #part end
  return n, total
end
print(run())
