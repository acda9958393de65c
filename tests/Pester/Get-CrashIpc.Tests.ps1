BeforeDiscovery {
    # -Skip conditions are evaluated while Pester discovers the tests, before BeforeAll runs.
    . (Join-Path $PSScriptRoot 'common.ps1')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    if ($HaveSample) { $script:V = Open-Vmcore (Join-Path $SamplesDir 'vmcore.kdump'); $script:Truth = (Get-TestManifest $SamplesDir).truth.ipc }
}
AfterAll { if ($V) { $V | Close-Vmcore } }

Describe 'Get-CrashIpc' -Skip:(-not $HaveSample) {
    It 'finds every <Kind> object the workload made, with the guest''s keys, ids and sizes' -TestCases @(
        @{ Kind = 'Shm'; Items = 'shm'; IdName = 'shmid' }
        @{ Kind = 'Sem'; Items = 'sem'; IdName = 'semid' }
        @{ Kind = 'Msg'; Items = 'msg'; IdName = 'msqid' }
    ) {
        $ours = @(Get-CrashIpc -Kind $Kind)
        $truth = @($Truth.$Items)
        $ours.Count | Should -Be $truth.Count
        foreach ($t in $truth) {
            $o = $ours | Where-Object Id -eq $t.$IdName
            $o.KeyHex | Should -Be $t.keyHex.Substring(2)
            $o.Perms | Should -Be ([string]$t.perms)
            switch ($Kind) {
                'Shm' { $o.Bytes | Should -Be $t.size; $o.NAttach | Should -Be $t.nattch }
                'Sem' { $o.NSems | Should -Be $t.nsems }
                'Msg' { $o.UsedBytes | Should -Be $t.cbytes; $o.Messages | Should -Be $t.qnum }
            }
        }
    }
    It 'shows crash''s ipcs addresses and columns' {
        $text = Get-CrashIpc | Out-String -Width 200
        $text | Should -Match 'ffff8cda427de100 4b440001 0\s+0\s+600\s+1048576\s+1'
        $text | Should -Match 'ffff8cda411f8e00 4b440003 0\s+0\s+600\s+4'
        $text | Should -Match 'ffff8cda427dec00 4b440004 0\s+0\s+600\s+48\s+3'
    }
    It 'filters by key and id' {
        (Get-CrashIpc -Key 0x4b440005).NSems | Should -Be 1
        @(Get-CrashIpc -Id 1).Count | Should -Be 2
    }
    It 'completes -Kind' {
        (TabExpansion2 'Get-CrashIpc -Kind M' 20).CompletionMatches.CompletionText | Should -Contain 'Msg'
    }
}
