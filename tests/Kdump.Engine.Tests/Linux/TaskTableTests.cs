using System.Globalization;
using Kdump.Engine.Linux.Tasks;
using Xunit.Abstractions;

namespace Kdump.Engine.Tests.Linux;

public class TaskTableTests
{
    private readonly ITestOutputHelper _out;
    public TaskTableTests(ITestOutputHelper output) => _out = output;

    [SampleFact]
    public void EveryTaskAndColumnMatchesCrashPs()
    {
        var table = TaskTable.Get(SampleDump.Vmcore.Kernel, SampleDump.Vmcore);
        foreach (var w in table.Warnings) _out.WriteLine("warning: " + w);
        var crash = SampleDump.ParsePs(SampleDump.CrashText("ps.txt"));
        Assert.Equal(67, crash.Count);
        Assert.Equal(crash.Count, table.Tasks.Count);
        for (int i = 0; i < crash.Count; i++)
        {
            var c = crash[i];
            var t = table.Tasks[i];
            string ctx = $"row {i} (crash: pid {c.Pid} {c.Comm})";
            Assert.True(c.Pid == t.Pid, ctx + $" pid {t.Pid}");
            Assert.True(c.Ppid == t.Ppid, ctx + $" ppid {t.Ppid}");
            Assert.True(c.Cpu == t.Cpu, ctx + $" cpu {t.Cpu}");
            Assert.True(c.Task == t.Task, ctx + $" task {t.Task:x}");
            Assert.True(c.State == t.State, ctx + $" state {t.State}");
            Assert.True(c.Mem == t.MemoryPercent.ToString("0.0", CultureInfo.InvariantCulture), ctx + $" %mem {t.MemoryPercent}");
            Assert.True(c.Vsz == t.Vsz, ctx + $" vsz {t.Vsz}");
            Assert.True(c.Rss == t.Rss, ctx + $" rss {t.Rss}");
            Assert.True(c.Comm == t.DisplayCommand, ctx + $" comm {t.DisplayCommand}");
            Assert.True(c.Active == t.IsActive, ctx + $" active {t.IsActive}");
        }
        Assert.Empty(table.Warnings);
    }
}

public class TaskTableTruthTests
{
    private static TaskTable Table => TaskTable.Get(SampleDump.Vmcore.Kernel, SampleDump.Vmcore);

    [SampleFact]
    public void TasksAgreeWithTheGuestsOwnProcView()
    {
        Assert.Empty(Kdump.Engine.Tests.FixtureAgreement.TruthChecks.Tasks(Table, SampleDump.Truth, out int compared));
        Assert.True(compared > 40, $"{compared} tasks compared");
    }

    [SampleFact]
    public void LookupsFindTasksByPidAddressAndCpu()
    {
        var panic = SampleDump.Truth.GetProperty("panic");
        Assert.Equal(panic.GetProperty("cpu").GetInt32(), Table.PanicCpu);
        Assert.NotNull(Table.PanicTask);
        Assert.Equal(panic.GetProperty("pid").GetInt32(), Table.PanicTask!.Pid);
        Assert.Equal(panic.GetProperty("comm").GetString(), Table.PanicTask.Command);
        Assert.True(Table.PanicTask.IsPanicTask && Table.PanicTask.IsActive);
        Assert.Same(Table.PanicTask, Table.ActiveTask(panic.GetProperty("cpu").GetInt32()));
        Assert.Same(Table.PanicTask, Table.FindByAddress(Table.PanicTask.Task));
        var idle = Table.FindByPid(0);
        Assert.Equal(2, idle.Count);
        Assert.All(idle, t => Assert.True(t.IsIdle && t.IsKernelThread));
        Assert.Equal(new[] { "swapper/0", "swapper/1" }, idle.Select(t => t.Command));
        Assert.Equal(SampleDump.Vmcore.Kernel.GetSymbol("init_task").Address, idle[0].Task.Value);
        Assert.Same(idle[0], Table.ActiveTask(0));
        Assert.Null(Table.ActiveTask(99));
        Assert.Null(Table.FindByAddress(0x1234));
        Assert.Empty(Table.FindByPid(999_999));
        Assert.Same(Table, TaskTable.Get(SampleDump.Vmcore.Kernel));
    }

    [SampleFact]
    public void ThreadGroupLeadersMatchCrashPsG()
    {
        var crash = SampleDump.ParsePs(SampleDump.CrashText("ps-group-leaders.txt"));
        var ours = Table.Tasks.Where(t => t.IsThreadGroupLeader).ToList();
        Assert.Equal(crash.Select(c => c.Task), ours.Select(t => t.Task.Value));
    }

    [SampleFact]
    public void AncestryMatchesCrashPsP()
    {
        var sections = SampleDump.CrashText("ps-parents.txt").Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var rx = new System.Text.RegularExpressions.Regex(@"TASK:\s+([0-9a-f]+)");
        Assert.Equal(Table.Tasks.Count, sections.Length);
        for (int i = 0; i < sections.Length; i++)
        {
            var chain = rx.Matches(sections[i]).Select(m => Convert.ToUInt64(m.Groups[1].Value, 16)).ToList();
            Assert.Equal(chain, Table.Ancestry(Table.FindByAddress(chain[^1])!).Select(t => t.Task.Value));
        }
    }

    [SampleFact]
    public void ChildrenAreTheTasksWhoseParentItIs()
    {
        var parent = Table.Tasks.Single(t => t.Command == "kdump-parent");
        Assert.Equal(new[] { "kdump-child-1", "kdump-child-2" }, Table.Children(parent).Select(t => t.Command));
        var kthreadd = Table.FindByPid(2).Single();
        Assert.True(Table.Children(kthreadd).All(t => t.IsKernelThread));
    }

    [SampleFact]
    public void ALoopingTaskListEndsWithAWarningAndTheTasksSoFar()
    {
        var clean = Table;
        var leaders = clean.Tasks.Where(t => t.IsThreadGroupLeader && !t.IsIdle).Select(t => t.Task).ToList();
        var p = PatchedMemory.SampleProgram((mem, k) =>
        {
            ulong tasksOff = Kdump.Engine.Program.KernelObject.MemberOffset(k.FindType("struct task_struct"), "tasks");
            // the 10th group's tasks.next points back at the 3rd group: the walk never returns to init_task
            ulong from = leaders[9], to = leaders[2];
            mem.WriteU64(PatchedMemory.Phys(k, from + tasksOff), to + tasksOff);
        });
        var t = TaskTable.Build(p);
        Assert.Contains(t.Warnings, w => w.Contains("init_task.tasks", StringComparison.Ordinal) && w.Contains("loops", StringComparison.Ordinal));
        Assert.True(t.Tasks.Count >= 10 && t.Tasks.Count < clean.Tasks.Count, $"{t.Tasks.Count} tasks");
        Assert.All(t.Tasks, x => Assert.NotNull(clean.FindByAddress(x.Task)));
    }

    /// <summary>
    /// The last page of a task_struct (its thread/FPU state) left out of the dump does not lose the task: ps needs only
    /// the fields before it (a regenerated 6.1 kexec capture lost kdump-panic's that way; crash listed it).
    /// </summary>
    [SampleFact]
    public void ATaskWhoseTailPageIsExcludedIsStillListed()
    {
        var clean = Table;
        var victim = clean.Tasks.Single(t => t.Command == "kdump-parent");
        var size = SampleDump.Vmcore.Kernel.FindType("struct task_struct").Size;
        ulong tail = victim.Task + size - 1;
        Assert.NotEqual(victim.Task >> 12, tail >> 12); // the sample's task_struct (~9 KiB) always spans pages
        var p = PatchedMemory.SampleProgram((mem, k) => mem.Exclude(PatchedMemory.Phys(k, tail)));
        var t = TaskTable.Build(p);
        Assert.Empty(t.Warnings);
        var found = t.FindByAddress(victim.Task);
        Assert.NotNull(found);
        Assert.Equal((victim.Pid, victim.Ppid, victim.Command, victim.State), (found!.Pid, found.Ppid, found.Command, found.State));
    }

    [SampleFact]
    public void ATaskInAnExcludedPageEndsTheWalkWithAWarning()
    {
        var clean = Table;
        var victim = clean.Tasks.Single(t => t.Command == "kdump-parent");
        var p = PatchedMemory.SampleProgram((mem, k) => mem.Exclude(PatchedMemory.Phys(k, victim.Task)));
        var t = TaskTable.Build(p);
        Assert.NotEmpty(t.Warnings);
        Assert.Null(t.FindByAddress(victim.Task));
        Assert.True(t.Tasks.Count > 2 && t.Tasks.Count < clean.Tasks.Count, $"{t.Tasks.Count} tasks");
    }
}

/// <summary>The same answers with a vmlinux's DWARF as the type source instead of the dump's BTF.</summary>
public class TasksWithDwarfTests
{
    [Kdump.Engine.Tests.Vmlinux.VmlinuxSampleFact]
    public void PsFilesVmAndSysAgreeWithCrashUsingDwarf()
    {
        using var v = new Kdump.Engine.Model.Vmcore(Kdump.Engine.Dump.DumpFile.Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump")));
        v.AttachVmlinux(Kdump.Engine.Tests.Vmlinux.RealVmlinux.Path!, false, Kdump.Engine.Model.TypeSourcePreference.Dwarf);
        Assert.StartsWith("DWARF", v.Kernel.TypeSourceText, StringComparison.Ordinal);
        var table = TaskTable.Build(v.Kernel, v);
        Assert.Empty(table.Warnings);
        var crash = SampleDump.ParsePs(SampleDump.CrashText("ps.txt"));
        Assert.Equal(crash.Select(c => (c.Pid, c.Ppid, c.Cpu, c.Task, c.State, c.Vsz, c.Rss, c.Comm, c.Active)),
            table.Tasks.Select(t => (t.Pid, t.Ppid, t.Cpu, t.Task.Value, t.State, t.Vsz, t.Rss, t.DisplayCommand, t.IsActive)));
        var files = Kdump.Engine.Linux.Fs.TaskFiles.Read(v.Kernel, table.FindByPid(114).Single());
        Assert.Equal("anon_inode:[eventfd]", files.Files.Single(f => f.Fd == 12).Path);
        Assert.Equal(10, Kdump.Engine.Linux.Mm.TaskVm.Read(v.Kernel, table.FindByPid(1).Single()).Areas.Count);
        Assert.Equal("Kernel panic - not syncing: sysrq triggered crash", Kdump.Engine.Linux.Sys.SystemInfo.Read(v).Panic);
    }
}
