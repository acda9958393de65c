using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Fs;
using Kdump.Engine.Linux.Ipc;
using Kdump.Engine.Linux.Modules;
using Kdump.Engine.Linux.Stack;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;

namespace Kdump.Engine.Tests.Program;

/// <summary>
/// Per-dump caches live on the program (issue 10 item 2): whoever asks first, tasks name their own dump; two dumps
/// open at once never share an answer; InvalidateCaches empties them all.
/// </summary>
public class KernelCachesTests
{
    private static Vmcore OpenSample() => new(DumpFile.Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump")));

    [SampleFact]
    public void TaskTableBuiltByAnOwnerlessCallerStillNamesTheDump()
    {
        // Get-CrashIpc asks for the task table without a Vmcore; Get-CrashProcess | Get-CrashVm then needs each
        // task's Vmcore. Before the fix the first caller's null owner was cached for every later caller.
        using var v = OpenSample();
        _ = new IpcReader(v.Kernel).FindNamespaces(_ => { });
        var table = TaskTable.Get(v.Kernel);
        Assert.Same(table, TaskTable.Get(v.Kernel, v));
        Assert.All(table.Tasks, t => Assert.Equal(v.Identity, t.Vmcore));
        Assert.Equal(v.Identity, table.FindByPid(1).Single().Vmcore);
    }

    [SampleFact]
    public void TwoDumpsOpenAtOnceKeepTheirOwnAnswers()
    {
        using var a = OpenSample();
        using var b = OpenSample();
        // interleave the first uses so a process-wide cache would hand one dump's answers to the other
        var ta = TaskTable.Get(a.Kernel);
        var fa = FsLayout.For(a.Kernel);
        var tb = TaskTable.Get(b.Kernel, b);
        var fb = FsLayout.For(b.Kernel);
        var ma = ModuleReader.Read(a.Kernel, out _);
        var mb = ModuleReader.Read(b.Kernel, out _);
        Assert.NotSame(ta, tb);
        Assert.NotSame(fa, fb);
        Assert.NotSame(ma, mb);
        Assert.NotSame(KernelUnwindInfo.For(a.Kernel), KernelUnwindInfo.For(b.Kernel));
        Assert.All(ta.Tasks, t => Assert.Equal(a.Identity, t.Vmcore));
        Assert.All(tb.Tasks, t => Assert.Equal(b.Identity, t.Vmcore));
        Assert.Equal(ta.Tasks.Select(t => (t.Pid, t.Task, t.State)), tb.Tasks.Select(t => (t.Pid, t.Task, t.State)));
        Assert.Equal(ma.Select(m => m.Name), mb.Select(m => m.Name));
        // a program belongs to one dump
        Assert.Equal("ProgramOwnerConflict", Assert.Throws<KdumpException>(() => TaskTable.Get(a.Kernel, b)).ErrorId);
    }

    [SampleFact]
    public void InvalidateCachesEmptiesEverySlot()
    {
        using var v = OpenSample();
        var k = v.Kernel;
        var table = TaskTable.Get(k);
        _ = ModuleReader.Read(k, out _);
        _ = FsLayout.For(k);
        Assert.Contains("TaskTable", k.Caches.Filled);
        Assert.Contains("ModuleList", k.Caches.Filled);
        Assert.Contains("FsLayout", k.Caches.Filled);
        k.InvalidateCaches();
        Assert.Empty(k.Caches.Filled);
        var again = TaskTable.Get(k);
        Assert.NotSame(table, again);
        Assert.Equal(table.Tasks.Count, again.Tasks.Count);
        Assert.All(again.Tasks, t => Assert.Equal(v.Identity, t.Vmcore));
    }

    [SampleFact]
    public void ConcurrentFirstUsesBuildOneTable()
    {
        using var v = OpenSample();
        var k = v.Kernel;
        var tables = new TaskTable[4];
        Parallel.For(0, tables.Length, i => tables[i] = TaskTable.Get(k));
        Assert.All(tables, t => Assert.Same(tables[0], t));
    }
}

/// <summary>struct path's members are read at the offsets the types give (issue 11 item 2), not at 0 and 8.</summary>
public class StructPathLayoutTests
{
    [SampleFact]
    public void ReadPathFollowsTheTypesOffsets()
    {
        using var dump = DumpFile.Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        var p = new Kdump.Engine.Program.KernelProgram(dump, dump.VmcoreInfo, dump.Cpus, null,
            new Kdump.Engine.Program.KernelProgramOptions { Architecture = dump.Architecture, DumpPhysBase = dump.PhysBase });
        ulong at = p.GetSymbol("init_task").Address;
        Assert.Equal(new VfsPath(p.ReadU64(at), p.ReadU64(at + 8)), new PathResolver(p).ReadPath(at));

        // the same dump with a struct path whose members are the other way round (dentry first)
        var q = new Kdump.Engine.Program.KernelProgram(dump, dump.VmcoreInfo, dump.Cpus, null,
            new Kdump.Engine.Program.KernelProgramOptions { Architecture = dump.Architecture, DumpPhysBase = dump.PhysBase });
        var b = new Kdump.Engine.Tests.BtfBuilder();
        int vp = b.Ptr(0);
        b.Struct("path", 16, ("dentry", vp, 0, 0), ("mnt", vp, 64, 0));
        _ = q.TypeFinders; // load the dump's BTF, then put the override in front of it
        q.AddTypeFinder(new Kdump.Engine.Types.BtfTypeFinder(b.Build(), "path override"), first: true);
        Assert.Equal(new VfsPath(q.ReadU64(at + 8), q.ReadU64(at)), new PathResolver(q).ReadPath(at));
    }
}
