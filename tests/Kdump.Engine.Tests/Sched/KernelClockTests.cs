using Kdump.Engine.Linux.Sched;
using Kdump.Engine.Program;
using Kdump.Engine.Tests.Linux;
using Xunit;

namespace Kdump.Engine.Tests.Sched;

/// <summary>
/// HZ and the tick-count uptime (crash's sys UPTIME, ps -t, timer -r "now") on the sample with patched clocks:
/// the rate comes from the tick length the kernel keeps, not from how close jiffies are to the timekeeper.
/// </summary>
public class KernelClockTests
{
    private static ulong Addr(KernelProgram p, string name) => PatchedMemory.Phys(p, p.GetSymbol(name).Address);

    [Fact]
    public void SampleIs250HzAndItsUptimeCountsTicks()
    {
        var c = KernelClock.Read(SampleDump.Vmcore.Kernel);
        Assert.Equal(250, c.Hz);
        Assert.Equal(unchecked(c.Jiffies - KernelClock.InitialJiffies(250)) * 4_000_000UL, c.UptimeNanoseconds);
    }

    [Fact]
    public void JiffiesFarBehindTheTimekeeperKeepTheRateAndCountTicks()
    {
        // a kexec'd panic left jiffies 50 ticks (0.2 s) behind the timekeeper: the nearest-rate guess gave up then
        // and the uptime came from the timekeeper, one second off crash's at the truncation
        var sample = KernelClock.Read(SampleDump.Vmcore.Kernel);
        ulong lagging = sample.Jiffies - 50;
        var p = PatchedMemory.SampleProgram((m, k) => m.WriteU64(Addr(k, "jiffies_64"), lagging));
        var c = KernelClock.Read(p);
        Assert.Equal(250, c.Hz);
        Assert.Equal(unchecked(lagging - KernelClock.InitialJiffies(250)) * 4_000_000UL, c.UptimeNanoseconds);
    }

    [Fact]
    public void TheTickLengthTheKernelKeepsDecidesTheRate()
    {
        var p = PatchedMemory.SampleProgram((m, k) =>
        {
            ulong last = k.ReadU64(k.GetSymbol("last_jiffies_update").Address);
            m.WriteU64(Addr(k, "tick_next_period"), last + 1_000_000); // TICK_NSEC of HZ=1000
        });
        Assert.Equal(1000, KernelClock.Read(p).Hz);
    }

    [Fact]
    public void WithoutTickNextPeriodTickNsecDecides()
    {
        var p = PatchedMemory.SampleProgram((m, k) =>
        {
            m.WriteU64(Addr(k, "tick_next_period"), 0);
            m.WriteU64(Addr(k, "tick_nsec"), 3_333_333); // HZ=300
        });
        Assert.Equal(300, KernelClock.Read(p).Hz);
    }

    [Fact]
    public void NoTickLengthAndAnImplausibleJiffiesLeaveTheRateUnknown()
    {
        var p = PatchedMemory.SampleProgram((m, k) =>
        {
            m.WriteU64(Addr(k, "tick_next_period"), 0);
            m.WriteU64(Addr(k, "tick_nsec"), 0);
            m.WriteU64(Addr(k, "jiffies_64"), 0x7fff_0000_0000_0000);
        });
        var c = KernelClock.Read(p);
        Assert.Null(c.Hz);
        Assert.Equal(c.BootNanoseconds, c.UptimeNanoseconds);
    }
}
