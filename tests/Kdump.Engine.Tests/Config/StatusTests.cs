using Kdump.Engine.Config;

namespace Kdump.Engine.Tests.Config;

public class StatusTests
{
    private static ConfigTree FakeProc(string cmdline, string? iomem, string? crashSize, string? loaded)
    {
        var t = new ConfigTree();
        t.Write("/proc/cmdline", cmdline + "\n");
        if (iomem is not null) t.Write("/proc/iomem", iomem);
        if (crashSize is not null) t.Write("/sys/kernel/kexec_crash_size", crashSize + "\n");
        if (loaded is not null) t.Write("/sys/kernel/kexec_crash_loaded", loaded + "\n");
        return t;
    }

    private const string Iomem = "00000000-00000fff : Reserved\n00100000-bffdffff : System RAM\n  01000000-01e0267f : Kernel code\n  a5000000-b4ffffff : Crash kernel\n";

    [Fact]
    public void OperationalWhenReservedAndLoaded()
    {
        using var t = FakeProc("BOOT_IMAGE=/vmlinuz-6.1.0 root=/dev/sda1 ro crashkernel=256M quiet", Iomem, "268435456", "1");
        var s = KdumpStatusReader.Read(t.Root, new KdumpStatusOptions { ServiceState = u => u == "kdump" ? "active" : null });
        Assert.True(s.Operational);
        Assert.Empty(s.Reasons);
        Assert.Equal(256UL << 20, Assert.Single(s.CommandLineCrashKernel).Size);
        var r = Assert.Single(s.ReservedRegions);
        Assert.Equal(0xa5000000UL, r.Start);
        Assert.Equal(256UL << 20, r.Size);
        Assert.Equal(256UL << 20, s.ReservedBytes);
        Assert.True(s.CrashKernelLoaded);
        Assert.Equal("kdump", s.Service);
        Assert.Equal("active", s.ServiceState);
    }

    [Fact]
    public void NotOperationalWithoutCrashkernel()
    {
        using var t = FakeProc("root=/dev/sda1 ro quiet", "00100000-bffdffff : System RAM\n", "0", "0");
        var s = KdumpStatusReader.Read(t.Root);
        Assert.False(s.Operational);
        Assert.Contains(s.Reasons, x => x.Contains("without crashkernel="));
        Assert.Contains(s.Reasons, x => x.Contains("kexec_crash_size is 0"));
        Assert.Contains(s.Reasons, x => x.Contains("No crash kernel is loaded"));
        Assert.Null(s.ServiceState);                         // never asked under a -Root
    }

    [Fact]
    public void ReservedButNotLoaded()
    {
        using var t = FakeProc("ro crashkernel=1G-:256M", Iomem, "268435456", "0");
        var s = KdumpStatusReader.Read(t.Root, new KdumpStatusOptions { ServiceState = u => "inactive" });
        Assert.False(s.Operational);
        Assert.Contains(s.Reasons, x => x.Contains("No crash kernel is loaded"));
        Assert.Contains(s.Reasons, x => x.Contains("service is inactive"));
    }

    [Fact]
    public void HiddenIomemAddressesStillCountAsAReservation()
    {
        using var t = FakeProc("ro crashkernel=256M", "00000000-00000000 : System RAM\n  00000000-00000000 : Crash kernel\n", "268435456", "1");
        var s = KdumpStatusReader.Read(t.Root, new KdumpStatusOptions { ServiceState = _ => null });
        Assert.True(s.Operational);
        Assert.False(Assert.Single(s.ReservedRegions).AddressKnown);
    }

    [Fact]
    public void LoadedButServiceInactiveIsOperationalWithANote()
    {
        using var t = FakeProc("ro crashkernel=256M", Iomem, "268435456", "1");
        var s = KdumpStatusReader.Read(t.Root, new KdumpStatusOptions { ServiceState = u => u == "kdump-tools" ? "failed" : null });
        Assert.True(s.Operational);
        Assert.Equal("kdump-tools", s.Service);
        Assert.Contains(s.Reasons, x => x.Contains("kdump-tools service is failed"));
    }

    [Fact]
    public void MissingSysFilesAreReasons()
    {
        using var t = FakeProc("ro", null, null, null);
        var s = KdumpStatusReader.Read(t.Root);
        Assert.False(s.Operational);
        Assert.Null(s.CrashKernelLoaded);
        Assert.Contains(s.Reasons, x => x.Contains("kexec_crash_loaded is missing"));
        Assert.Contains(s.Reasons, x => x.Contains("no \"Crash kernel\" range"));
    }

    [Fact]
    public void ThisMachineReportsHonestly()
    {
        // The test machine: whatever it is, Operational must agree with /sys/kernel/kexec_crash_loaded and the reservation.
        var s = KdumpStatusReader.Read("/", new KdumpStatusOptions { ServiceState = _ => null });
        bool loaded = File.Exists("/sys/kernel/kexec_crash_loaded") && File.ReadAllText("/sys/kernel/kexec_crash_loaded").Trim() == "1";
        Assert.Equal(loaded, s.Operational);
        if (!s.Operational) Assert.NotEmpty(s.Reasons);
        bool ckOnCmdline = File.ReadAllText("/proc/cmdline").Split(' ').Any(w => w.StartsWith("crashkernel="));
        Assert.Equal(ckOnCmdline, s.CommandLineCrashKernel.Count > 0);
    }
}
