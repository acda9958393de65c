using Kdump.Engine.Model;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Stack;

/// <summary>A kernel stack unwinder of one architecture (what Get-CrashBacktrace runs); made by the architecture's descriptor.</summary>
public interface IKernelBacktracer
{
    /// <summary>Notes from loading the unwind tables.</summary>
    IReadOnlyList<string> Notes { get; }
    CrashBacktrace Trace(BacktraceTarget target, CancellationToken cancellation = default);
}

/// <summary>The backtracer of a program's architecture.</summary>
public static class Backtracers
{
    /// <summary>The unwinder of <paramref name="program"/>'s architecture; BacktraceUnsupported when it has none.</summary>
    public static IKernelBacktracer For(KernelProgram program, Vmcore? vmcore = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        var create = program.Architecture.CreateBacktracer
            ?? throw new KdumpException("BacktraceUnsupported", KdumpErrorKind.NotSupported,
                $"Kernel backtraces are not supported on {program.Architecture.Name} yet.", program.Architecture.Name);
        return create(program, vmcore);
    }
}
