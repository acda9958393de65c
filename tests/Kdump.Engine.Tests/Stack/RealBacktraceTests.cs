using System.Globalization;
using System.Text.Json;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Modules;
using Kdump.Engine.Linux.Stack;
using Kdump.Engine.Model;
using Kdump.Engine.Program;

namespace Kdump.Engine.Tests.Stack;

/// <summary>
/// Backtraces and modules of real dumps against crash 8.0.6 (samples/crash/*.txt, the fixtures' crash-kexec/, and
/// `foreach bt` captured from crash on the same dumps, in this folder).
/// </summary>
public class RealBacktraceTests
{
    private static (Vmcore V, KernelProgram K) Open(string path)
    {
        var v = new Vmcore(DumpFile.Open(path));
        return (v, v.Kernel);
    }

    private static string Here(string file) => Path.Combine(TestEnvironment.RepoRoot, "tests", "Kdump.Engine.Tests", "Stack", file);

    internal static CrashBacktrace Trace(Vmcore v, KernelProgram k, ulong task)
    {
        var panicCpu = BacktraceTargets.PanicCpu(k, v.PanicCpu);
        return new Backtracer(k, v).Trace(BacktraceTargets.ForTask(k, task, panicCpu));
    }

    /// <summary>
    /// Compares our trace with crash's, frame by frame from the outermost frame inwards (function and stack
    /// address). Returns the differences that are not one of crash's documented display conventions:
    /// (1) crash shows the first frame after an IRQ stack at its pt_regs address, 8 bytes above the return
    /// address slot we show; (2) crash shows the exception RIP of a handler chain as a numbered frame at that RSP
    /// (we do too; nothing to allow); (3) above the innermost frame both agree on, crash may list words it found
    /// by scanning (a stale return address at the saved RSP, or frames below the saved RSP that ran after the
    /// registers were saved), while we may list the live frames above crash's first one (module code of the panic
    /// notifier) — each such extra frame must lie on the stack side of the divergence it belongs to.
    /// </summary>
    internal static List<string> Compare(CrashBtTrace crash, CrashBacktrace ours, KernelProgram k)
    {
        var diffs = new List<string>();
        var c = crash.Frames;
        var o = ours.Frames;
        int i = c.Count - 1, j = o.Count - 1;
        while (i >= 0 && j >= 0)
        {
            var cf = c[i]; var of = o[j];
            if (SameFunction(k, cf, of) && (cf.Sp == of.StackPointer || (cf.Sp == of.StackPointer + 8 && of.Registers is not null && j > 0 && o[j - 1].Stack == "IRQ")))
            { i--; j--; continue; }
            break;
        }
        // What remains are the innermost frames.
        if (i >= 0 && j >= 0)
        {
            // Our innermost frame starts from registers: crash's frame at the same RSP naming another function is a
            // stale word it found there (it printed the registers as an exception RIP above it).
            // (or at the word above it: crash's #0 at RSP + 8, as a regenerated 6.1 capture's stopped CPU shows)
            if (i == 0 && j == 0 && o[0].FromRegisters && (c[0].Sp == o[0].StackPointer || c[0].Sp == o[0].StackPointer + 8) && crash.StartsWithException
                && crash.ExceptionRips.Count > 0 && crash.ExceptionRips[0].StartsWith(o[0].Function + "+", StringComparison.Ordinal))
                return diffs;
            // crash went on below the saved RSP (frames that ran after the registers were saved): its extra inner
            // frames lie below our first frame, and its next frame names our first frame's function.
            if (o[j].FromRegisters && j == 0 && c[i].Function == o[0].Function && c.Take(i).All(f => f.Sp < o[0].StackPointer))
                return diffs;
            diffs.Add($"PID {crash.Pid}: crash #{c[i].Level} [{c[i].Sp:x}] {c[i].Function} vs ours #{o[j].Level} [{o[j].StackPointer:x}] {o[j].Function}");
        }
        else if (i >= 0) diffs.Add($"PID {crash.Pid}: crash has {i + 1} more inner frames, from #{c[0].Level} {c[0].Function}");
        else if (j >= 0 && c.Count > 0 && o.Take(j + 1).Any(f => f.StackPointer >= c[0].Sp))
            diffs.Add($"PID {crash.Pid}: our extra inner frames are not below crash's first frame");
        return diffs;
    }

    /// <summary>Same name, or an alias at the same address (__x64_sys_pause and __ia32_sys_pause share one body).</summary>
    private static bool SameFunction(KernelProgram k, CrashBtFrame c, CrashFrame o)
        => c.Function == o.Function || (o.Function is not null && k.FindSymbol(c.Function) is { } cs && cs.Address == o.InstructionPointer - o.Offset);

    [SampleFact]
    public void PanicTaskShowsTheSysrqPathDownToTheWriteSystemCall()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        var panicCpu = BacktraceTargets.PanicCpu(k, v.PanicCpu);
        Assert.Equal(1, panicCpu);
        var task = BacktraceTargets.ActiveTask(k, 1)!.Value;
        var bt = new Backtracer(k, v).Trace(BacktraceTargets.ForTask(k, task, panicCpu));
        Assert.Equal(780, bt.Pid);
        Assert.Equal("kdump-panic", bt.Command);
        Assert.True(bt.IsPanicTask);
        Assert.Empty(bt.Warnings);
        var names = bt.Frames.Select(f => f.Function).ToList();
        var path = new[] { "panic", "sysrq_handle_crash", "__handle_sysrq.cold", "write_sysrq_trigger", "proc_reg_write", "vfs_write", "ksys_write", "do_syscall_64", "entry_SYSCALL_64_after_hwframe" };
        Assert.Equal(path, names.Skip(names.IndexOf("panic")));
        // The live frames above panic: the pvpanic notifier in a module, named from the module's own kallsyms.
        Assert.Equal("pvpanic", bt.Frames[0].Module);
        Assert.Equal("pvpanic_panic_notify", bt.Frames[0].Function);
        var last = bt.Frames[^1];
        Assert.Equal(0x43e960UL, last.Registers!["rip"]);
        Assert.Equal(1UL, last.Registers!["orig_rax"]); // write(2)

        var crash = CrashBtText.Parse(File.ReadAllText(Path.Combine(TestEnvironment.SamplesDir, "crash", "bt-panic.txt"))).Single();
        Assert.Empty(Compare(crash, bt, k));
    }

    [SampleFact]
    public void EveryTaskAgreesWithCrashForeachBt()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        var crash = CrashBtText.Parse(File.ReadAllText(Here("crash-foreach-bt-sample.txt")));
        Assert.Equal(67, crash.Count);
        var diffs = new List<string>();
        foreach (var c in crash)
        {
            var ours = Trace(v, k, c.Task);
            Assert.Equal(c.Pid, ours.Pid);
            Assert.Equal(c.Command, ours.Command);
            Assert.Equal(c.Cpu, ours.Cpu);
            Assert.True(ours.Warnings.Count == 0, $"PID {c.Pid}: {string.Join("; ", ours.Warnings)}");
            diffs.AddRange(Compare(c, ours, k));
        }
        Assert.Empty(diffs);
    }

    [SampleFact]
    public void BlockedWorkloadTasksShowTheirSystemCall()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        using var m = TestEnvironment.LoadManifest(TestEnvironment.SamplesDir);
        var workload = m.RootElement.GetProperty("truth").GetProperty("workload");
        foreach (var p in workload.EnumerateObject())
        {
            int pid = p.Value.GetInt32();
            var tasks = BacktraceTargets.FindByPid(k, pid);
            var bt = Trace(v, k, Assert.Single(tasks));
            Assert.Equal("__schedule", bt.Frames[0].Function);
            var entry = bt.Frames[^1];
            Assert.Equal("entry_SYSCALL_64_after_hwframe", entry.Function);
            Assert.True(entry.Registers!["orig_rax"] < 512, $"{p.Name}: orig_rax {entry.Registers!["orig_rax"]}");
            Assert.Equal("do_syscall_64", bt.Frames[^2].Function);
            // The syscall's own function sits right above do_syscall_64 (__x64_sys_pause, __do_sys_wait4, ...).
            Assert.Matches("sys_|do_", bt.Frames[^3].Function);
        }
    }

    [SampleFact]
    public void AllCpusAgreeWithCrashBtA()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        var crash = CrashBtText.Parse(File.ReadAllText(Path.Combine(TestEnvironment.SamplesDir, "crash", "bt-all.txt")));
        Assert.Equal(2, crash.Count);
        var diffs = new List<string>();
        for (int cpu = 0; cpu < 2; cpu++)
        {
            var task = BacktraceTargets.ActiveTask(k, cpu)!.Value;
            var ours = Trace(v, k, task);
            var c = crash.Single(x => x.Cpu == cpu);
            Assert.Equal(c.Task, ours.Task.Value);
            Assert.True(ours.IsActive);
            Assert.Equal(c.StackSwitches, StackSwitches(ours));
            Assert.Equal(c.ExceptionRips.Skip(c.StartsWithException ? 1 : 0), ours.Frames.Where(f => f.ExceptionLocation is not null && !f.FromRegisters).Select(f => f.ExceptionLocation!));
            diffs.AddRange(Compare(c, ours, k));
        }
        Assert.Empty(diffs);
    }

    internal static List<string> StackSwitches(CrashBacktrace bt)
    {
        var l = new List<string>();
        for (int i = 1; i < bt.Frames.Count; i++)
            if (bt.Frames[i].Stack != bt.Frames[i - 1].Stack && bt.Frames[i - 1].Stack != "task") l.Add(bt.Frames[i - 1].Stack);
        return l;
    }

    [FixtureFact]
    public void KexecCaptureAgreesWithCrash()
    {
        var dir = TestEnvironment.FixturesDir!;
        var path = Path.Combine(dir, "kexec-vmcore.elf");
        if (!File.Exists(path)) return;
        var (v, k) = Open(path);
        using var _ = v;
        // crash's answers must come from THIS capture (task addresses differ per boot): the generator writes them
        // when the debuginfo vmlinux is available. Without them, every task must still trace without error.
        var refDir = Path.Combine(dir, "crash-kexec");
        if (!File.Exists(Path.Combine(refDir, "bt-all.txt")))
        {
            foreach (var t in Kdump.Engine.Linux.Tasks.TaskTable.Build(k).Tasks)
                Assert.NotEmpty(Trace(v, k, t.Task).Frames);
            return;
        }
        var diffs = new List<string>();
        if (File.Exists(Path.Combine(refDir, "foreach-bt.txt")))
        {
            var crash = CrashBtText.Parse(File.ReadAllText(Path.Combine(refDir, "foreach-bt.txt")));
            foreach (var c in crash) diffs.AddRange(Compare(c, Trace(v, k, c.Task), k));
        }
        var all = CrashBtText.Parse(File.ReadAllText(Path.Combine(refDir, "bt-all.txt")));
        foreach (var c in all)
        {
            var ours = Trace(v, k, c.Task);
            Assert.Equal(c.StackSwitches, StackSwitches(ours));
            diffs.AddRange(Compare(c, ours, k));
        }
        Assert.Empty(diffs);
    }

    [SampleFact]
    public void ModulesEqualCrashModAndTheManifest()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        var mods = ModuleReader.Read(k, out var warnings).Select(m => ModuleReader.ToCrashModule(m)).OrderBy(m => m.Base).ThenBy(m => m.Object).ToList();
        Assert.Empty(warnings);
        var lines = File.ReadAllLines(Path.Combine(TestEnvironment.SamplesDir, "crash", "mod.txt")).Skip(1).Where(l => l.Trim().Length > 0).ToList();
        Assert.Equal(lines.Count, mods.Count);
        for (int i = 0; i < lines.Count; i++)
        {
            var f = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(ulong.Parse(f[0], NumberStyles.HexNumber), mods[i].Object.Value);
            Assert.Equal(f[1], mods[i].Name);
            Assert.Equal(ulong.Parse(f[2], NumberStyles.HexNumber), mods[i].Base.Value);
            Assert.Equal(ulong.Parse(f[3], CultureInfo.InvariantCulture), mods[i].Size);
            Assert.Null(mods[i].File);
        }
        using var m = TestEnvironment.LoadManifest(TestEnvironment.SamplesDir);
        var truth = m.RootElement.GetProperty("truth").GetProperty("modules").EnumerateArray().ToList();
        Assert.Equal(truth.Count, mods.Count);
        foreach (var t in truth)
        {
            var mod = mods.Single(x => x.Name == t.GetProperty("name").GetString());
            Assert.Equal(Convert.ToUInt64(t.GetProperty("address").GetString(), 16), mod.Base.Value);
            Assert.Equal(t.GetProperty("size").GetUInt64(), mod.Size + mod.InitSize);
            Assert.Equal("MODULE_STATE_LIVE", mod.State);
        }
    }

    [SampleFact]
    public void ModuleAddressesResolveToModuleSymbols()
    {
        var (v, k) = Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        using var _ = v;
        var s = k.Symbolize(0xffffffffc0256230)!.Value;
        Assert.Equal("pvpanic_panic_notify", s.Symbol.Name);
        Assert.Equal("pvpanic", s.Symbol.Module);
        Assert.Equal(0x60UL, s.Offset);
        Assert.Equal(s.Symbol.Address, k.FindSymbol("pvpanic_panic_notify")!.Address);
        Assert.Null(k.Symbolize(0xffffffffc0000000)); // module area, no module there
    }

    [Fact]
    public void ModuleFilesAreFoundWithDashUnderscoreEquivalence()
    {
        var dir = Directory.CreateTempSubdirectory("kdump-mods-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "kernel", "drivers", "misc"));
            File.WriteAllText(Path.Combine(dir.FullName, "kernel", "drivers", "misc", "pvpanic-pci.ko.xz"), "");
            File.WriteAllText(Path.Combine(dir.FullName, "kernel", "drivers", "misc", "virtio_ring.ko"), "");
            File.WriteAllText(Path.Combine(dir.FullName, "kernel", "drivers", "misc", "virtio_ring.ko.zst"), "");
            File.WriteAllText(Path.Combine(dir.FullName, "kernel", "drivers", "misc", "notes.txt"), "");
            var idx = new ModuleFileIndex(dir.FullName);
            Assert.EndsWith("pvpanic-pci.ko.xz", idx.Find("pvpanic_pci"));
            Assert.EndsWith("virtio_ring.ko", idx.Find("virtio-ring"));
            Assert.Null(idx.Find("notes"));
            Assert.Equal(2, idx.Count);
            var ex = Assert.Throws<KdumpException>(() => new ModuleFileIndex(Path.Combine(dir.FullName, "missing")));
            Assert.Equal("ModulePathNotFound", ex.ErrorId);
        }
        finally { dir.Delete(true); }
    }
}
