using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Program;

namespace Kdump.Engine.Tests.Linux;

/// <summary>Task state bits come from the kernel's own task_state_array, not from the release string (issue 11 item 2).</summary>
public class TaskStatesTests
{
    private static readonly string[] Modern = { "R (running)", "S (sleeping)", "D (disk sleep)", "T (stopped)", "t (tracing stop)", "X (dead)", "Z (zombie)", "P (parked)", "I (idle)" };
    private static readonly string[] Linux4_0 = { "R (running)", "S (sleeping)", "D (disk sleep)", "T (stopped)", "t (tracing stop)", "X (dead)", "Z (zombie)" };
    private static readonly string[] Linux3_10 = { "R (running)", "S (sleeping)", "D (disk sleep)", "T (stopped)", "t (tracing stop)", "Z (zombie)", "X (dead)", "x (dead)", "K (wakekill)", "W (waking)", "P (parked)" };

    private static ulong[] Bits(TaskStates s) => new[] { s.Interruptible, s.Uninterruptible, s.Stopped, s.Traced, s.ExitDead, s.ExitZombie, s.Parked, s.Dead, s.WakeKill, s.Waking, s.NoLoad, s.New };

    [Fact]
    public void ModernArrayGivesTheFourFourteenBits()
    {
        var s = TaskStates.FromNames(Modern)!;
        Assert.Equal(Bits(TaskStates.Modern), Bits(s));
        Assert.Equal("PA", s.Letters(0x40, 0));
        Assert.Equal("ID", s.Letters(0x402, 0));
        Assert.Equal("ZO", s.Letters(0, 0x20));
        Assert.StartsWith("task_state_array", s.Source);
    }

    [Fact]
    public void FourZeroArrayGivesTheLegacyBits()
    {
        var s = TaskStates.FromNames(Linux4_0)!;
        Assert.Equal(Bits(TaskStates.Legacy), Bits(s));
        Assert.Equal("PA", s.Letters(0x200, 0));
        Assert.Equal("DE", s.Letters(0x40, 0));
    }

    [Fact]
    public void ThreeTenArrayHasZombieAndDeadTheOtherWayRound()
    {
        // Linux 3.x: EXIT_ZOMBIE 16, EXIT_DEAD 32, TASK_DEAD 64 ... TASK_PARKED 512 (a release table would get ZO/DE wrong)
        var s = TaskStates.FromNames(Linux3_10)!;
        Assert.Equal(0x10UL, s.ExitZombie);
        Assert.Equal(0x20UL, s.ExitDead);
        Assert.Equal(0x40UL, s.Dead);
        Assert.Equal(0x80UL, s.WakeKill);
        Assert.Equal(0x100UL, s.Waking);
        Assert.Equal(0x200UL, s.Parked);
        Assert.Equal("ZO", s.Letters(0, 0x10));
        Assert.Equal("DE", s.Letters(0, 0x20));
    }

    [Fact]
    public void NotAStateArrayIsRejected()
    {
        Assert.Null(TaskStates.FromNames(new[] { "R (running)", "S (sleeping)" }));
        Assert.Null(TaskStates.FromNames(new[] { "S (sleeping)", "R (running)", "D (disk sleep)", "T (stopped)", "t (tracing stop)", "X (dead)", "Z (zombie)" }));
    }

    [SampleFact]
    public void TheSampleDumpsBitsComeFromItsMemory()
    {
        var k = SampleDump.Vmcore.Kernel;
        var s = TaskStates.FromKernel(k);
        Assert.StartsWith("task_state_array (R (running), S (sleeping)", s.Source);
        Assert.Equal(0x40UL, s.Parked);
    }

    [Fact]
    public void WithoutTheArrayTheReleaseDecidesAndSaysWhy()
    {
        var mem = new FakePhysicalMemory();
        var p = new KernelProgram(mem, new Kdump.Engine.Dump.VmcoreInfo("OSRELEASE=4.9.0-8-amd64\n", "t"),
            translatorOptions: new Kdump.Engine.Translation.X86_64TranslatorOptions { PageOffsetBase = 0xffff888000000000UL });
        var s = TaskStates.FromKernel(p);
        Assert.Equal(0x200UL, s.Parked);
        Assert.Contains("task_state_array", s.Source);
        Assert.Contains("4.9.0-8-amd64", s.Source);
    }
}
