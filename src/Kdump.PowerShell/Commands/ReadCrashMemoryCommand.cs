using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Dump;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Read-CrashMemory: reads physical memory of the dump (like crash's rd -p) and shows it like hexdump -C. An
/// unreadable page is an error (PageExcluded, PageNotInDump, PageLost, PageCorrupt) with its address as target; the
/// readable bytes around it are still returned.
/// </summary>
[Cmdlet(VerbsCommunications.Read, "CrashMemory")]
[OutputType(typeof(CrashMemoryBlock))]
public sealed class ReadCrashMemoryCommand : VmcoreCommandBase
{
    public const int MaxLength = 64 << 20;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public ulong PhysicalAddress { get; set; }

    [Parameter(Position = 1)]
    [ValidateRange(1, MaxLength)]
    public int Length { get; set; } = 64;

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        ulong addr = PhysicalAddress;
        if (addr + (ulong)Length < addr)
        {
            WriteKdumpError(new KdumpException("AddressOutOfRange", KdumpErrorKind.InvalidArgument, $"0x{addr:x} + {Length} bytes wraps around the address space.", addr));
            return;
        }
        ulong end = addr + (ulong)Length;
        ulong ps = (ulong)v.PageSize;
        while (addr < end)
        {
            Cancellation.ThrowIfCancellationRequested();
            var buf = new byte[end - addr];
            int n = 0;
            PageStatus st = PageStatus.Present;
            string? detail = null;
            if (!TryEngine(() => n = v.Dump.TryReadPhysical(addr, buf, out st, out detail), addr)) return;
            if (n > 0) WriteObject(new CrashMemoryBlock(addr, n == buf.Length ? buf : buf[..n]));
            addr += (ulong)n;
            if (addr >= end) break;
            WriteKdumpError(new MemoryFaultException(addr, st, "physical", detail));
            addr = (addr / ps + 1) * ps; // go on after the unreadable page
        }
    }
}
