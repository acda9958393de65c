using System.Text;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Tests.Dump;
using Kdump.Engine.Tests.Linux;

namespace Kdump.Engine.Tests.Reliability;

/// <summary>Issue 10 item 5: a damaged dump must not silently change the task list; disagreements become warnings.</summary>
public class TaskCrossCheckTests
{
    private static TaskTable Clean => TaskTable.Build(SampleDump.Vmcore.Kernel);

    private static ulong Off(KernelProgram k, string member) => KernelObject.MemberOffset(k.FindType("struct task_struct"), member);

    [SampleFact]
    public void TheHealthySampleRaisesNoWarning()
    {
        var t = Clean;
        Assert.Empty(t.Warnings);
        Assert.Empty(SampleDump.Vmcore.Dump.Problems);
    }

    [SampleFact]
    public void ATaskSkippedByTheListIsCaughtByNrThreadsAndTheBackPointers()
    {
        var clean = Clean;
        var leaders = clean.Tasks.Where(t => t.IsThreadGroupLeader && !t.IsIdle).Select(t => t.Task).ToList();
        var p = PatchedMemory.SampleProgram((mem, k) =>
        {
            // leader 5's tasks.next jumps over leader 6 to leader 7: the walk loses one group, without a loop or a fault.
            ulong off = Off(k, "tasks");
            mem.WriteU64(PatchedMemory.Phys(k, leaders[5] + off), leaders[7] + off);
        });
        var t = TaskTable.Build(p);
        Assert.True(t.Tasks.Count < clean.Tasks.Count);
        Assert.Contains(t.Warnings, w => w.Contains("nr_threads", StringComparison.Ordinal));
        Assert.Contains(t.Warnings, w => w.Contains("back pointers", StringComparison.Ordinal));
        Assert.All(t.Warnings, w => Assert.Contains("may be partial or wrong", w));
    }

    [SampleFact]
    public void APhantomTaskWithPidZeroAndNoNameIsReported()
    {
        var victim = Clean.Tasks.First(t => t.Pid > 100 && t.IsThreadGroupLeader);
        var p = PatchedMemory.SampleProgram((mem, k) =>
        {
            mem.Write(PatchedMemory.Phys(k, victim.Task + Off(k, "pid")), new byte[4]);
            mem.Write(PatchedMemory.Phys(k, victim.Task + Off(k, "comm")), new byte[16]);
        });
        var t = TaskTable.Build(p);
        Assert.Contains(t.Warnings, w => w.Contains("pid 0 are not idle tasks", StringComparison.Ordinal));
        Assert.Contains(t.Warnings, w => w.Contains("empty or unprintable command", StringComparison.Ordinal));
    }

    [SampleFact]
    public void APidThatDisagreesWithItsStructPidIsReported()
    {
        var victim = Clean.Tasks.First(t => t.Pid > 100 && t.IsThreadGroupLeader);
        var p = PatchedMemory.SampleProgram((mem, k) => mem.Write(PatchedMemory.Phys(k, victim.Task + Off(k, "pid")), BitConverter.GetBytes(12040)));
        var t = TaskTable.Build(p);
        Assert.Contains(t.Warnings, w => w.Contains("struct pid", StringComparison.Ordinal) && w.Contains("12040", StringComparison.Ordinal));
    }

    [SampleFact]
    public void AMissingIdleTaskIsReported()
    {
        var p = PatchedMemory.SampleProgram((mem, k) =>
        {
            var rq = k.Variable("runqueues");
            ulong idleOff = KernelObject.MemberOffset(rq.Type, "idle");
            mem.WriteU64(PatchedMemory.Phys(k, k.PerCpuAddress(rq.Address, 1) + idleOff), 0);
        });
        var t = TaskTable.Build(p);
        Assert.Contains(t.Warnings, w => w.Contains("have no idle task", StringComparison.Ordinal));
    }

    /// <summary>The repro: one bit cleared in the dumped-page bitmap shifts later pages; the open says so and so does the task list.</summary>
    [SampleFact]
    public void AFlippedBitInTheDumpedBitmapIsReportedAtOpenAndByTheTaskList()
    {
        // The highest dumped page: every page below it (kallsyms, BTF, tasks) still reads right.
        var v = FlipDumpedBit(highest: true, out var warnings);
        Assert.Contains(v.Dump.Problems, p => p.Contains("bitmap", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("may be corrupt", StringComparison.Ordinal));
        var t = TaskTable.Build(v.Kernel);
        Assert.Contains(t.Warnings, w => w.Contains("The dump is damaged", StringComparison.Ordinal));
        v.Dispose();
    }

    [SampleFact]
    public void WhenTheFlippedBitGarblesKallsymsTheErrorNamesTheDamageNotAMissingBtf()
    {
        using var v = FlipDumpedBit(highest: false, out _);
        var ex = Assert.ThrowsAny<KdumpException>(() => TaskTable.Build(v.Kernel));
        Assert.Contains("The dump is damaged", ex.Message);
        Assert.DoesNotContain("the kernel has no BTF", ex.Message);
    }

    private static Vmcore FlipDumpedBit(bool highest, out List<string> warnings)
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"));
        var k = SampleDump.Vmcore.Kernel;
        // Highest: the last dumped page (nothing after it shifts); else the lowest task page (the kernel image above it shifts).
        ulong pfn = highest ? SampleDump.Vmcore.Dump.EnumerateDumpedPfns().Last()
            : Clean.Tasks.Where(t => t.Pid > 100).Select(t => k.Translator.ToPhysical(t.Task, Kdump.Engine.Translation.AddressSpace.KernelVirtual) / 4096).Min();
        var h = KdumpHeader.Read(new Fuzz.MutantSource("h", bytes, bytes.Length, new()));
        long bitmap2 = (1L + h.SubHdrSize) * h.BlockSize + (long)h.BitmapBlocks * h.BlockSize / 2;
        long at = bitmap2 + (long)(pfn / 8);
        Assert.NotEqual(0, bytes[at] & (1 << (int)(pfn % 8)));
        bytes[at] ^= (byte)(1 << (int)(pfn % 8));
        var (w, host) = TestDumps.CapturingHost();
        warnings = w;
        return new Vmcore(TestDumps.Open(bytes, "flipped.kdump", host: host));
    }
}
