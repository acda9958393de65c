using System.Text.Json;
using Kdump.Engine.Linux.Fs;
using Kdump.Engine.Linux.Mm;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Program;

namespace Kdump.Engine.Tests.FixtureAgreement;

/// <summary>
/// Our tasks, descriptors and memory areas against the guest's own /proc view (the manifest's truth, taken a few
/// seconds before the panic), as lists of differences. Used by the sample tests and by the fixture tests.
/// </summary>
public static class TruthChecks
{
    public static List<string> Tasks(TaskTable table, JsonElement truth, out int compared)
    {
        var diffs = new List<string>();
        compared = 0;
        foreach (var t in truth.GetProperty("tasks").EnumerateArray())
        {
            int pid = t.GetProperty("pid").GetInt32();
            string comm = t.GetProperty("comm").GetString()!;
            var found = table.FindByPid(pid);
            if (found.Count == 0 && comm.StartsWith("kworker", StringComparison.Ordinal)) continue; // workers come and go
            if (found.Count != 1) { diffs.Add($"pid {pid} ({comm}): {found.Count} tasks"); continue; }
            var task = found[0];
            void Check(string what, object expected, object actual) { if (!Equals(expected, actual)) diffs.Add($"pid {pid} {what}: truth {expected}, ours {actual}"); }
            Check("tgid", t.GetProperty("tgid").GetInt32(), task.Tgid);
            Check("ppid", t.GetProperty("ppid").GetInt32(), task.Ppid);
            // /proc shows a kworker's current workqueue after its name ("kworker/0:0-events") and a kernel thread's
            // full name where comm truncates it to 15 characters
            if (!(comm == task.Command || (task.IsKernelThread && task.Command.Length == 15 && comm.StartsWith(task.Command, StringComparison.Ordinal))
                || (task.Command.StartsWith("kworker/", StringComparison.Ordinal) && comm.StartsWith(task.Command + "-", StringComparison.Ordinal))))
                diffs.Add($"pid {pid} comm: truth {comm}, ours {task.Command}");
            Check("kernel thread", t.GetProperty("kernelThread").GetBoolean(), task.IsKernelThread);
            Check("vsz", (ulong)t.GetProperty("vsize").GetInt64() / 1024, task.Vsz);
            // an idle kernel thread stays idle, except a kworker, which runs work queued after the truth was taken (the
            // state itself is checked against crash's ps)
            if (t.GetProperty("state").GetString() == "I" && !task.Command.StartsWith("kworker/", StringComparison.Ordinal)) Check("state", "ID", task.State);
            Check("threads", t.GetProperty("numThreads").GetInt32(), table.ThreadsOf(task.Tgid).Count());
            compared++;
        }
        return diffs;
    }

    public static List<string> Files(KernelProgram k, TaskTable table, JsonElement truth, out int compared)
    {
        var diffs = new List<string>();
        compared = 0;
        foreach (var proc in new[] { truth.GetProperty("files") }.Concat(truth.GetProperty("otherFiles").EnumerateArray()))
        {
            int pid = proc.GetProperty("pid").GetInt32();
            // init moved its stdout to /dev/ttyS1 after the sampling (crash and we both see ttyS1): the workload only
            if (pid == 1) continue;
            var tasks = table.FindByPid(pid);
            if (tasks.Count != 1) { diffs.Add($"pid {pid}: {tasks.Count} tasks"); continue; }
            var files = TaskFiles.Read(k, tasks[0]).Files.ToDictionary(f => f.Fd);
            foreach (var fd in proc.GetProperty("fds").EnumerateArray())
            {
                string target = fd.GetProperty("target").GetString()!;
                if (target.Length == 0) continue; // the sampling process's own descriptor, closed since
                int n = fd.GetProperty("fd").GetInt32();
                if (!files.TryGetValue(n, out var f)) { diffs.Add($"pid {pid} fd {n} ({target}) missing"); continue; }
                if (target != f.Path) diffs.Add($"pid {pid} fd {n}: truth {target}, ours {f.Path}");
                if (fd.TryGetProperty("pos", out var pos) && pos.GetInt64() != f.Position) diffs.Add($"pid {pid} fd {n} pos: truth {pos}, ours {f.Position}");
                // O_LARGEFILE is added by the kernel on 64-bit
                if (fd.TryGetProperty("flags", out var fl) && (fl.GetUInt32() & ~0x8000u) != (f.Flags & ~0x8000u)) diffs.Add($"pid {pid} fd {n} flags: truth {fl}, ours {f.Flags}");
                compared++;
            }
        }
        return diffs;
    }

    public static List<string> Maps(KernelProgram k, TaskTable table, JsonElement truth, out int compared)
    {
        var diffs = new List<string>();
        compared = 0;
        foreach (var g in truth.GetProperty("maps").EnumerateArray().GroupBy(m => m.GetProperty("pid").GetInt32()))
        {
            var tasks = table.FindByPid(g.Key);
            if (tasks.Count != 1) { diffs.Add($"pid {g.Key}: {tasks.Count} tasks"); continue; }
            var areas = TaskVm.Read(k, tasks[0]).Areas.ToDictionary(a => a.Start);
            foreach (var m in g)
            {
                string start = m.GetProperty("start").GetString()!;
                if (!areas.TryGetValue(Convert.ToUInt64(start, 16), out var a)) { diffs.Add($"pid {g.Key} area {start} missing"); continue; }
                string ctx = $"pid {g.Key} area {start}";
                if (Convert.ToUInt64(m.GetProperty("end").GetString(), 16) != a.End) diffs.Add($"{ctx} end {a.End:x}");
                if (m.GetProperty("perms").GetString() != a.Permissions) diffs.Add($"{ctx} perms {a.Permissions}");
                string path = m.GetProperty("path").GetString() ?? "";
                if (!path.StartsWith('[') && path != a.File) diffs.Add($"{ctx} file: truth {path}, ours {a.File}"); // [heap] [stack] [vdso] are names /proc derives
                if (a.File.Length > 0 && Convert.ToUInt64(m.GetProperty("offset").GetString(), 16) != a.Offset) diffs.Add($"{ctx} offset {a.Offset:x}");
                compared++;
            }
        }
        return diffs;
    }
}
