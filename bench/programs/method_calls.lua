local Counter = {}
Counter.__index = Counter
function Counter.new() return setmetatable({count = 0}, Counter) end
function Counter:add(n) self.count = self.count + n end
local function run()
  local c = Counter.new()
  for i = 0, 2999999 do c:add(i) end
  return c.count
end
print(run())
