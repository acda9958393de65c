using System.Globalization;
using System.Text.RegularExpressions;
using Kdump.Engine.Linux.Fs;
using Kdump.Engine.Linux.Ipc;
using Kdump.Engine.Linux.Irq;
using Kdump.Engine.Linux.MemInfo;
using Kdump.Engine.Linux.Mm;
using Kdump.Engine.Linux.Modules;
using Kdump.Engine.Linux.Swap;
using Kdump.Engine.Linux.Sys;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.Ipc;
using Kdump.Engine.Tests.Irq;
using Kdump.Engine.Tests.Linux;
using Kdump.Engine.Tests.MemInfo;
using Kdump.Engine.Program;

namespace Kdump.Engine.Tests.FixtureAgreement;

/// <summary>
/// crash's answers and ours turned into the same one-line-per-row spelling (every column of the row, in crash's
/// order), so that a row that differs anywhere shows up with both versions side by side. The crash side reuses the
/// sample tests' parsers (SampleDump.ParsePs/ParseTaskSections, IrqTests, IpcTests, MemoryInfoTests).
/// </summary>
public static partial class CrashRows
{
    private static string Hex(ulong v) => v.ToString("x", CultureInfo.InvariantCulture);

    // ---- ps ----------------------------------------------------------------------------------------------------
    public static List<string> Ps(string crashText) => SampleDump.ParsePs(crashText)
        .Select(c => PsRow(c.Active, c.Pid, c.Ppid, c.Cpu, c.Task, c.State, c.Mem, c.Vsz, c.Rss, c.Comm)).ToList();

    public static List<string> Ps(TaskTable table) => table.Tasks
        .Select(t => PsRow(t.IsActive, t.Pid, t.Ppid, t.Cpu, t.Task, t.State, t.MemoryPercent.ToString("0.0", CultureInfo.InvariantCulture), t.Vsz, t.Rss, t.DisplayCommand)).ToList();

    private static string PsRow(bool active, int pid, int ppid, int cpu, ulong task, string st, string mem, ulong vsz, ulong rss, string comm)
        => $"{(active ? ">" : " ")} {pid} {ppid} {cpu} {Hex(task)} {st} {mem} {vsz} {rss} {comm}";

    // ---- files (foreach files) ----------------------------------------------------------------------------------
    [GeneratedRegex(@"^\s*(\d+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(\S+)\s?(.*)$")]
    private static partial Regex FileRow();
    [GeneratedRegex(@"^ROOT:\s+(\S+)\s+CWD:\s+(\S+)")]
    private static partial Regex RootCwd();

    /// <summary>crash 8.0.6 prints CWD with a trailing '/' ("/tmp/"), crash 9.0.2 without: compared without it.</summary>
    private static string Dir(string path) => path.Length > 1 ? path.TrimEnd('/') : path;

    private static string DirOf(string type, string path) => type == "DIR" ? Dir(path) : path;

    public static List<string> Files(string crashText)
    {
        var rows = new List<string>();
        foreach (var s in SampleDump.ParseTaskSections(crashText))
        {
            var rc = RootCwd().Match(s.Lines[0]);
            rows.Add($"PID {s.Pid} {Hex(s.Task)} ROOT {(rc.Success ? rc.Groups[1].Value : "?")} CWD {(rc.Success ? Dir(rc.Groups[2].Value) : "?")}");
            foreach (var m in s.Lines.Skip(1).Select(l => FileRow().Match(l)).Where(m => m.Success))
                rows.Add($"  {s.Pid} fd {m.Groups[1].Value} {m.Groups[2].Value} {m.Groups[3].Value} {m.Groups[4].Value} {m.Groups[5].Value} {DirOf(m.Groups[5].Value, m.Groups[6].Value.Trim())}");
        }
        return rows;
    }

    public static List<string> Files(KernelProgram k, TaskTable table)
    {
        var rows = new List<string>();
        foreach (var t in table.Tasks)
        {
            CrashTaskFiles f;
            try { f = TaskFiles.Read(k, t); }
            catch (KdumpException ex) { rows.Add($"PID {t.Pid} {Hex(t.Task)} error {ex.ErrorId}: {ex.Message}"); continue; }
            rows.Add($"PID {t.Pid} {Hex(t.Task)} ROOT {f.Root} CWD {Dir(f.Cwd)}");
            foreach (var x in f.Files)
                rows.Add($"  {t.Pid} fd {x.Fd} {Hex(x.File)} {Hex(x.Dentry)} {Hex(x.Inode)} {x.Type} {DirOf(x.Type, TaskFilesTests.CrashSpelling(x))}");
        }
        return rows;
    }

    // ---- vm (foreach vm) ------------------------------------------------------------------------------------------
    [GeneratedRegex(@"^\s*([0-9a-f]+)\s+([0-9a-f]+)\s+(\d+)k\s+(\d+)k")]
    private static partial Regex MmRow();
    [GeneratedRegex(@"^([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s?(.*)$")]
    private static partial Regex VmaRow();

    /// <summary>crash prints files on kernel-internal mounts without the leading '/' and without " (deleted)".</summary>
    private static string VmFile(string f) => f.Replace(" (deleted)", "").Trim().TrimStart('/');

    public static List<string> Vm(string crashText)
    {
        var rows = new List<string>();
        foreach (var s in SampleDump.ParseTaskSections(crashText))
        {
            var m = MmRow().Match(s.Lines.Count > 1 ? s.Lines[1] : "");
            rows.Add(m.Success ? $"PID {s.Pid} {Hex(s.Task)} MM {m.Groups[1].Value} PGD {m.Groups[2].Value} RSS {m.Groups[3].Value}k TOTAL_VM {m.Groups[4].Value}k" : $"PID {s.Pid} {Hex(s.Task)} ?");
            foreach (var r in s.Lines.Skip(2).Select(l => VmaRow().Match(l)).Where(r => r.Success))
                rows.Add($"  {s.Pid} vma {r.Groups[1].Value} {r.Groups[2].Value} {r.Groups[3].Value} {r.Groups[4].Value} {VmFile(r.Groups[5].Value)}");
        }
        return rows;
    }

    public static List<string> Vm(KernelProgram k, TaskTable table)
    {
        var rows = new List<string>();
        foreach (var t in table.Tasks)
        {
            CrashVm vm;
            try { vm = TaskVm.Read(k, t); }
            catch (KdumpException ex) { rows.Add($"PID {t.Pid} {Hex(t.Task)} error {ex.ErrorId}: {ex.Message}"); continue; }
            rows.Add($"PID {t.Pid} {Hex(t.Task)} MM {Hex(vm.Mm)} PGD {Hex(vm.Pgd)} RSS {vm.Rss}k TOTAL_VM {vm.TotalVm}k");
            foreach (var a in vm.Areas)
                rows.Add($"  {t.Pid} vma {Hex(a.Vma)} {Hex(a.Start)} {Hex(a.End)} {Hex(a.Flags)} {VmFile(a.File)}");
        }
        return rows;
    }

    // ---- sys ------------------------------------------------------------------------------------------------------
    /// <summary>crash's sys fields except KERNEL and DUMPFILE (paths of the machine crash ran on).</summary>
    public static List<string> Sys(string crashText)
    {
        var rows = new List<string>();
        foreach (var line in crashText.Split('\n'))
        {
            int c = line.IndexOf(':');
            if (c <= 0) continue;
            string key = line[..c].Trim(), value = line[(c + 1)..].Trim();
            if (key is "KERNEL" or "DUMPFILE") continue;
            rows.Add($"{key}: {value}");
        }
        return rows;
    }

    /// <summary>crash's DATE (strftime "%a %b %e %T %Z %Y": the day of the month padded with a space).</summary>
    public static string CrashDate(DateTimeOffset d)
    {
        var u = d.ToUniversalTime();
        return u.ToString("ddd MMM ", CultureInfo.InvariantCulture) + u.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2)
            + u.ToString(" HH:mm:ss 'UTC' yyyy", CultureInfo.InvariantCulture);
    }

    public static List<string> Sys(CrashSystem s) => new()
    {
        $"CPUS: {s.Cpus}" + (s.OfflineCpus > 0 ? $" [OFFLINE: {s.OfflineCpus}]" : ""),
        "DATE: " + (s.Date is { } d ? CrashDate(d) : "?"),
        "UPTIME: " + (s.Uptime is { } u ? $"{(int)u.TotalHours:00}:{u.Minutes:00}:{u.Seconds:00}" : "?"),
        $"LOAD AVERAGE: {s.LoadAverageText}",
        $"TASKS: {s.Tasks.ToString(CultureInfo.InvariantCulture)}",
        $"NODENAME: {s.NodeName}",
        $"RELEASE: {s.Release}",
        $"VERSION: {s.Version}",
        $"MACHINE: {s.Machine}  ({s.Mhz} Mhz)",
        $"MEMORY: {s.MemoryText}",
        $"PANIC: \"{s.Panic}\"",
    };

    // ---- irq -s, ipcs, swap, kmem -i, mod -------------------------------------------------------------------------
    public static List<string> Irq(string crashText, int cpus) => IrqTests.ParseCrashIrqS(crashText, cpus)
        .Select(c => $"{c.Irq}: {string.Join(' ', c.Counts)} {c.Chip} {c.Name}").ToList();

    public static List<string> Irq(KernelProgram k) => new IrqReader(k).EnumerateStatistics(null, e => throw e)
        .Select(i => $"{i.Irq}: {string.Join(' ', i.CountsPerCpu)} {i.CrashChip} {i.Name}").ToList();

    public static List<string> Ipcs(string crashText) => IpcTests.ParseCrashIpcs(crashText)
        .Select(r => r.Section + " " + string.Join(' ', r.Fields)).ToList();

    public static List<string> Ipcs(KernelProgram k) => new IpcReader(k).Enumerate(new[] { CrashIpcKind.Shm, CrashIpcKind.Sem, CrashIpcKind.Msg }, e => throw e, _ => { })
        .Select(o =>
        {
            string head = $"{Hex(o.Address).PadLeft(16, '0')} {o.KeyHex} {o.Id} {o.Uid} {o.Perms}";
            return o switch
            {
                CrashIpcSharedMemory s => $"SHMID_KERNEL {head} {s.Bytes} {s.NAttach}" + (s.Status.Length > 0 ? " " + s.Status : ""),
                CrashIpcSemaphore s => $"SEM_ARRAY {head} {s.NSems}",
                CrashIpcMessageQueue q => $"MSG_QUEUE {head} {q.UsedBytes} {q.Messages}",
                _ => $"? {head}",
            };
        }).ToList();

    [GeneratedRegex(@"^([0-9a-f]{16})\s+(\S+)\s+(\d+)k\s+(\d+)k\s+(\d+)%\s+(-?\d+)\s+(.*)$")]
    private static partial Regex SwapRow();

    public static List<string> Swap(string crashText) => crashText.Split('\n').Select(l => SwapRow().Match(l.TrimEnd('\r'))).Where(m => m.Success)
        .Select(m => string.Join(' ', m.Groups.Values.Skip(1).Select(g => g.Value.Trim()))).ToList();

    public static List<string> Swap(KernelProgram k) => new SwapReader(k).Enumerate(e => throw e)
        .Select(s => $"{s.SwapInfo:x16} {s.Type} {s.Size} {s.Used} {s.Percent} {s.Priority} {s.FileName}").ToList();

    // ---- the guest's truth where crash is wrong (FixtureDumps.CrashWrong) ----------------------------------------
    public static List<string> SwapTruth(System.Text.Json.JsonElement truth) => truth.GetProperty("swaps").EnumerateArray()
        .Select(s => $"{s.GetProperty("filename").GetString()} {s.GetProperty("size").GetInt64()}k").ToList();

    public static List<string> SwapAsTruth(KernelProgram k) => new SwapReader(k).Enumerate(e => throw e).Select(s => $"{s.FileName} {s.Size}k").ToList();

    /// <summary>/proc/meminfo's SwapTotal and CommitLimit, in pages (SwapFree moves in the seconds before the panic).</summary>
    public static List<string> KmemSwapTruth(System.Text.Json.JsonElement truth)
    {
        var m = truth.GetProperty("meminfoKiB");
        return new() { $"TOTAL SWAP {m.GetProperty("swaptotal").GetInt64() / 4}", $"COMMIT LIMIT {m.GetProperty("commitlimit").GetInt64() / 4}" };
    }

    public static List<string> KmemSwapAsTruth(List<string> ours) => ours.Where(r => r.StartsWith("TOTAL SWAP ", StringComparison.Ordinal) || r.StartsWith("COMMIT LIMIT ", StringComparison.Ordinal))
        .Select(r => string.Join(' ', r.Split(' ').Take(r.StartsWith("TOTAL", StringComparison.Ordinal) ? 3 : 3))).ToList();

    /// <summary>/proc/modules: name and load address (the text base).</summary>
    public static List<string> ModTruth(System.Text.Json.JsonElement truth) => truth.GetProperty("modules").EnumerateArray()
        .Select(m => $"{m.GetProperty("name").GetString()} {m.GetProperty("address").GetString()}").OrderBy(x => x, StringComparer.Ordinal).ToList();

    public static List<string> ModAsTruth(KernelProgram k) => ModuleReader.Read(k, out var warnings).Select(m => ModuleReader.ToCrashModule(m))
        .Select(m => $"{m.Name} 0x{m.Base:x}").OrderBy(x => x, StringComparer.Ordinal).Concat(warnings.Select(w => "warning: " + w)).ToList();

    public static List<string> Kmem(string crashText) => MemoryInfoTests.ParseKmemI(crashText).Select(c => $"{c.Name} {c.Pages} {c.Size} {c.Pct}").ToList();

    /// <summary>Our kmem -i lines, preceded by any warning (a page struct missing from the dump would make SHARED a lower bound).</summary>
    public static List<string> Kmem(KernelProgram k)
    {
        var warnings = new List<string>();
        var lines = new MemoryInfoReader(k, (id, text) => warnings.Add($"warning {id}: {text}")).ReadLines();
        return warnings.Concat(lines.Select(l => $"{l.Name} {l.Pages} {l.Size} {l.PercentText}")).ToList();
    }

    public static List<string> Mod(string crashText) => crashText.Split('\n').Skip(1).Where(l => l.Trim().Length > 0)
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(f => $"{f[0]} {f[1]} {f[2]} {f[3]}").ToList();

    public static List<string> Mod(KernelProgram k)
    {
        var mods = ModuleReader.Read(k, out var warnings).Select(m => ModuleReader.ToCrashModule(m)).OrderBy(m => m.Base).ThenBy(m => m.Object).ToList();
        return warnings.Select(w => "warning: " + w).Concat(mods.Select(m => $"{m.Object:x16} {m.Name} {m.Base:x16} {m.Size}")).ToList();
    }

    /// <summary>Our frames of a trace, one line each (for comparing the same task across dumps).</summary>
    public static string Frames(CrashBacktrace bt) => string.Join('\n', bt.Frames.Select(f => $"#{f.Level} [{Hex(f.StackPointer)}] {f.Location} {Hex(f.InstructionPointer)} {f.Stack} {f.Module}")
        .Concat(bt.Warnings.Select(w => "warning: " + w)));

    /// <summary>The rows that differ, as "label: crash 'x' / ours 'y'" (first <paramref name="max"/> only, plus the counts).</summary>
    public static List<string> Diff(string label, IReadOnlyList<string> crash, IReadOnlyList<string> ours, int max = 8)
    {
        var diffs = new List<string>();
        if (crash.Count != ours.Count) diffs.Add($"{label}: crash has {crash.Count} rows, we have {ours.Count}");
        var missing = crash.Except(ours).ToList();
        var extra = ours.Except(crash).ToList();
        foreach (var m in missing.Take(max)) diffs.Add($"{label}: crash '{m}' not ours");
        foreach (var e in extra.Take(max)) diffs.Add($"{label}: ours  '{e}' not crash's");
        if (missing.Count + extra.Count == 0 && !crash.SequenceEqual(ours)) diffs.Add($"{label}: same rows, different order");
        return diffs;
    }
}
